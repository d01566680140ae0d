import { initialTransition, transition, type AnyEventObject, type AnyMachineSnapshot } from 'xstate';
import { getShortestPaths } from 'xstate/graph';
import { describe, expect, test } from 'vitest';
import { createBundledSteps } from '../actors/index.ts';
import type { StepContext, StepImplementation, StepRegistry } from '../runtime/step-types.ts';
import { childEvents } from '../machines/machine-testing.ts';
import {
  fullProvisioningInput,
  machineOf,
  preparedLab,
  sagaSpecs,
  seedSimulation,
  subscriberProvisioning,
  type SagaSpec,
  type SeedSimulation,
} from './support/seed-harness.ts';

/**
 * Every shortest path of every seed saga (from `xstate/graph`, with step
 * results, failures, cancel, operator retry and resolve as events), executed
 * through the runtime in simulation mode with the lab. A step the path
 * completes really runs against the lab; a step the path fails throws a
 * permanent error; cancel is sent while the step it interrupts runs; an
 * operator's resolve is preceded by the work done "by hand" (the undo of a
 * failed compensation, or a failed step past the saga's pivot). The instance
 * must take exactly the path's transitions, and a roll back must leave the
 * lab as it found it.
 */

const EXTRA: AnyEventObject[] = [
  { type: 'workflow.cancel', reason: 'test' },
  { type: 'operator.retry' },
  { type: 'operator.resolve', reason: 'fixed by hand' },
];
// As sagas/saga-testing.ts: which compensations were resolved does not make a new vertex.
const vertex = (s: AnyMachineSnapshot) =>
  JSON.stringify({ value: s.value, context: { ...s.context, resolutions: s.context.resolutions.length > 0 } });

async function pathsOf(spec: SagaSpec): Promise<AnyEventObject[][]> {
  const { input } = await preparedLab(spec);
  const machine = machineOf(spec.machine);
  const paths = getShortestPaths(machine, {
    input,
    events: (s) => childEvents({}, EXTRA)(s as AnyMachineSnapshot),
    serializeState: (s) => vertex(s as AnyMachineSnapshot),
  });
  // The first step of a path is the `xstate.init` that produced the initial snapshot.
  return paths.map((p) => p.steps.slice(1).map((s) => s.event as AnyEventObject));
}

/** What must agree between the pure replay and the runtime (step outputs differ: the lab makes real ids). */
function shape(value: unknown, context: any) {
  return {
    value,
    completed: Object.keys(context.results).sort(),
    skipped: context.skipped,
    failure: context.failure?.step ?? null,
    compensationFailure: context.compensationFailure?.step ?? null,
    resolved: context.resolutions.map((r: { step: string }) => r.step),
    cancelled: context.cancellation !== null,
  };
}

/** Steps that follow the script: the next event says whether an invocation completes (really) or fails. */
function scripted(
  steps: StepRegistry,
  script: AnyEventObject[],
  sim: () => SeedSimulation,
  shutDown: () => void,
  mismatches: string[],
): StepRegistry {
  const wrap = (impl: StepImplementation) => ({
    ...impl,
    run: async (input: unknown, ctx: StepContext) => {
      // Idempotency keys are `instanceId:invokeId:generation`.
      const invokeId = ctx.idempotencyKey.split(':')[1]!;
      while (script[0]?.type === 'workflow.cancel') await sim().runtime.send(ctx.instanceId, script.shift()!, { source: 'operator' });
      const next = script.shift();
      if (!next) {
        // The path ends while this step runs: stop here.
        const hung = new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true }));
        queueMicrotask(shutDown);
        return hung;
      }
      if (next.type === `xstate.error.actor.${invokeId}`)
        throw Object.assign(new Error(`scripted failure of ${invokeId}`), { retryable: false });
      if (next.type !== `xstate.done.actor.${invokeId}`) mismatches.push(`${invokeId} invoked, the path expects ${next.type}`);
      return impl.run(input, ctx);
    },
  });
  return Object.fromEntries(Object.entries(steps).map(([name, impl]) => [name, wrap(impl as StepImplementation)]));
}

async function runPath(spec: SagaSpec, events: AnyEventObject[]) {
  const { lab, input, before, state } = await preparedLab(spec);
  const script = [...events];
  const mismatches: string[] = [];
  let closing: Promise<void> | undefined;
  let sim: SeedSimulation | undefined;
  const shutDown = () => void (closing ??= sim!.runtime.close());
  sim = await seedSimulation(lab, { wrap: (steps) => scripted(steps, script, () => sim!, shutDown, mismatches) });
  const id = 'path-instance';
  await sim.runtime.start({ machine: spec.machine, input, instanceId: id });
  for (;;) {
    await sim.settle();
    if (closing) break;
    const view = await sim.runtime.get(id);
    const next = script[0];
    if (view.status !== 'active' || !next) break;
    if (next.type !== 'operator.retry' && next.type !== 'operator.resolve') {
      mismatches.push(`resting in ${JSON.stringify(view.value)}, the path expects ${next.type}`);
      break;
    }
    script.shift();
    if (next.type === 'operator.resolve') await doByHand(sim, lab, id);
    await sim.runtime.send(id, next, { source: 'operator' });
  }
  await closing;
  const history = await sim.runtime.history(id, { limit: 1000 });
  const record = await sim.runtime.get(id);
  return { lab, input, before, state, mismatches, history, record, unused: script };
}

// What an operator resolving a failed step has done by hand, in the system: the
// undo of a failed compensation, or a failed forward-only step (past the pivot) itself.
async function doByHand(sim: SeedSimulation, lab: Awaited<ReturnType<typeof preparedLab>>['lab'], id: string) {
  const { value } = await sim.runtime.get(id);
  const [[phase, leaf]] = Object.entries(value as Record<string, string>) as [[string, string]];
  const step = leaf.replace(/_failed$/, '');
  const name = phase === 'compensating' ? `compensate.${step}` : step;
  const failed = (await sim.runtime.effects(id)).filter((e) => e.kind === 'step' && e.status === 'failed' && e.name === name).at(-1)!;
  const impl = createBundledSteps(lab.clients)[failed.target!]!;
  await impl.run(failed.input, {
    idempotencyKey: `by-hand:${failed.id}`,
    attempt: 1,
    signal: new AbortController().signal,
    instanceId: id,
    tenant: 'default',
    now: () => sim.clock.now(),
  });
}

/** subscriber-provisioning linking an existing customer, with a static IP and no CPE: three steps skipped. */
const provisioningWithSkips: SagaSpec = {
  ...subscriberProvisioning,
  prepare: async (lab) => {
    const customer = await lab.clients.customers.createCustomer(
      { name: 'Existing', email: 'old@example.net' },
      { idempotencyKey: 'setup:customer' },
    );
    const { customer: _c, ipPrefixId: _p, cpe: _cpe, ...rest } = fullProvisioningInput('bob');
    return { ...rest, customerId: customer.id, staticIp: '203.0.113.9' };
  },
};
const pathSpecs = [
  ...sagaSpecs.map((s) => [s.machine, s] as const),
  ['subscriber-provisioning with skipped steps', provisioningWithSkips] as const,
];

describe.each(pathSpecs)('%s: every shortest path through the runtime and the lab', (name, spec) => {
  test('each path takes the same transitions as the pure machine; roll backs leave no orphan', async () => {
    const machine = machineOf(spec.machine);
    const paths = await pathsOf(spec);
    expect(paths.length).toBeGreaterThan(20);
    let ran = 0;
    const pivotWaits = { resting: 0, finished: 0 };
    for (const events of paths) {
      ran++;
      const label = events.map((e) => e.type.replace('xstate.', '')).join(' > ');
      const run = await runPath(spec, events);
      expect(run.mismatches, label).toEqual([]);
      expect(run.unused, label).toEqual([]);

      // The pure replay of the same events, state by state.
      let [snapshot] = initialTransition(machine, run.input);
      const expected = [snapshot.value];
      for (const e of events) {
        [snapshot] = transition(machine, snapshot, e);
        expected.push(snapshot.value);
      }
      expect(
        run.history.map((h) => h.type),
        label,
      ).toEqual(['xstate.init', ...events.map((e) => e.type)]);
      expect(
        run.history.map((h) => h.stateValue),
        label,
      ).toEqual(expected);
      expect(shape(run.record.value, run.record.context), label).toEqual(shape(snapshot.value, snapshot.context));

      const outcome = (run.record.output as { outcome?: string } | null)?.outcome;
      if (outcome === 'rolled_back' || outcome === 'cancelled') {
        expect(await run.lab.orphans(run.before), label).toEqual([]);
        if (spec.state) expect(await spec.state(run.lab, run.input), label).toEqual(run.state);
      }
      if (outcome === 'completed' && spec.machine === 'subscriber-deprovisioning') {
        // However the purge got done (run, retried, or by hand before a resolve): only the customer is left.
        expect(
          (await run.lab.liveRecords()).map((r) => `${r.system}/${r.kind}`),
          label,
        ).toEqual(['customers/customer']);
      }
      // Forward-only steps that failed wait for an operator (`running.<step>_failed`): reached, left by retry or resolve.
      const waited = run.history.some(
        (h) => typeof h.stateValue === 'object' && /_failed$/.test((h.stateValue as { running?: string }).running ?? ''),
      );
      if (waited) outcome === 'completed' ? pivotWaits.finished++ : pivotWaits.resting++;
    }
    console.log(`${name}: ${ran} of ${paths.length} shortest paths run through the runtime`);
    expect(ran).toBe(paths.length);
    if (spec.machine === 'subscriber-deprovisioning') {
      // Paths into the purge's waiting state, and out of it to completion, were run too.
      expect(pivotWaits.resting, 'paths resting in running.purge_failed').toBeGreaterThan(0);
      expect(pivotWaits.finished, 'paths completing after running.purge_failed').toBeGreaterThan(0);
    }
  }, 120_000);
});
