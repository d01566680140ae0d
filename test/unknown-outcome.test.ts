import { describe, expect, test } from 'vitest';
import { stepOutcomeOf } from '../runtime/step.ts';
import {
  isForwardOnly,
  machineOf,
  maxAttemptsOf,
  preparedLab,
  recoversByKey,
  runUntilResting,
  seedSimulation,
  subscriberProvisioning,
  tenantProvisioning,
} from './support/seed-harness.ts';

/**
 * A step whose every response is lost after the lab applied it fails with an
 * unknown outcome: the runtime's error event carries the invocation's
 * idempotency key beside the error, the saga looks up by that key what the
 * call applied and undoes it with the earlier steps. No lab record is left.
 */

const specs = [subscriberProvisioning, tenantProvisioning];

describe.each(specs.map((s) => [s.machine, s] as const))('%s: every response of a step lost after it applied', (_name, spec) => {
  const steps = spec.steps.filter((s) => s.compensation && !isForwardOnly(spec.machine, s.name) && recoversByKey(spec.machine, s.name));

  test.each(steps.map((s) => [s.name, s] as const))('at %s: the applied record is undone by its key, no orphan', async (_step, step) => {
    const { lab, input, before } = await preparedLab(spec);
    const sim = await seedSimulation(lab);
    lab.faults.inject({ ...step.action, mode: 'failAfterApply', times: 1_000 });
    const { id } = await sim.runtime.start({ machine: spec.machine, input });
    const view = await runUntilResting(sim, id);

    expect(view.output).toMatchObject({ outcome: 'rolled_back', failure: { step: step.name } });
    const rows = await sim.runtime.effects(id);
    const failed = rows.find((e) => e.name === step.name)!;
    const src = failed.target!;
    // Every call was made and applied once (the same key), the failure marked as of unknown outcome.
    expect(failed).toMatchObject({
      status: 'failed',
      attempts: maxAttemptsOf(machineOf(spec.machine), src),
      error: { outcome: 'unknown' },
    });
    expect(lab.calls.count(step.action.system, step.action.operation)).toBe(failed.attempts);
    // The saga asked by the failed invocation's key, found what it applied, and undid it.
    const recovery = rows.find((e) => e.name === `recover.${step.name}`)!;
    expect(recovery).toMatchObject({
      status: 'done',
      input: { statekeeperRecovery: { idempotencyKey: failed.id } },
      result: { applied: true },
    });
    expect(rows.find((e) => e.name === `compensate.${step.name}`)).toMatchObject({ status: 'done' });
    expect(await lab.orphans(before)).toEqual([]);

    // The chart saw the step's own error; the key and outcome rode beside it on the event.
    const event = (await sim.runtime.history(id, { limit: 1000 })).find((e) => e.type === `xstate.error.actor.${step.name}`)!;
    expect(stepOutcomeOf(event.payload)).toEqual({ idempotencyKey: failed.id, attempts: failed.attempts, outcome: 'unknown' });
    expect(event.payload).toMatchObject({ error: { $$type: 'Error', name: 'ExternalSystemError' } });
  });
});

describe('the outcome beside a step error', () => {
  test('a permanent rejection of the first call is not_applied; a transient one after retries is unknown', async () => {
    const { createSimulation } = await import('../runtime/testing/index.ts');
    const { setup, assign } = await import('xstate');
    const { step } = await import('../runtime/step.ts');
    const machine = setup({ actors: { charge: step({ maxAttempts: 2, initialDelayMs: 10 }) } }).createMachine({
      id: 'outcome-probe',
      context: { seen: null as unknown },
      initial: 'calling',
      states: {
        calling: {
          invoke: {
            src: 'charge',
            onError: {
              target: 'failed',
              actions: assign({ seen: ({ event }) => ({ outcome: stepOutcomeOf(event), isError: event.error instanceof Error }) }),
            },
          },
        },
        failed: { type: 'final' },
      },
    });
    for (const [retryable, outcome, attempts] of [
      [false, 'not_applied', 1],
      [true, 'unknown', 2],
    ] as const) {
      const charge = async () => {
        throw Object.assign(new Error('declined'), { retryable });
      };
      const sim = await createSimulation({ machines: [{ machine, options: { version: '1' } }], steps: { charge } });
      const { id } = await sim.runtime.start({ machine: 'outcome-probe' });
      await sim.advance(1_000);
      const v = await sim.runtime.get(id);
      expect(v.context).toEqual({
        seen: { outcome: { idempotencyKey: `${id}:0.outcome-probe.calling:1`, attempts, outcome }, isError: true },
      });
      await sim.runtime.close();
    }
  });
});
