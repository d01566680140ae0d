import { describe, expect, it } from 'vitest';
import type { AnyEventObject } from 'xstate';
import { Drive, done, fail } from '../machines/machine-testing.ts';
import { defineSaga } from './saga.ts';
import { sagaStepStatuses } from './saga-status.ts';

type Res = { a: { aId: string }; b: { bId: string }; c: { cId: string } };

const machine = defineSaga<{ name: string }, Res>({
  id: 'recovering-saga',
  steps: [
    {
      name: 'a',
      action: 'createA',
      compensation: 'deleteA',
      input: ({ input }) => ({ name: input.name }),
      compensationInput: ({ result }) => result,
    },
    {
      name: 'b',
      action: 'createB',
      compensation: 'deleteB',
      input: ({ results }) => ({ aId: results.a.aId }),
      compensationInput: ({ result }) => result,
    },
    { name: 'c', action: 'checkC', compensation: 'undoC', failureAppliesNothing: true, input: () => ({}) },
  ],
});

/** A failure as the runtime delivers it: the invocation's key, and `permanent` for a definite rejection. */
const failWithKey = (id: string, idempotencyKey: string, permanent = false): AnyEventObject =>
  ({
    type: `xstate.error.actor.${id}`,
    error: Object.assign(new Error('response lost'), { name: 'ExternalSystemError' }),
    statekeeperStep: { idempotencyKey, attempts: 3, outcome: permanent ? 'not_applied' : 'unknown' },
  }) as AnyEventObject;

describe('a step whose outcome is unknown', () => {
  it('is looked up by its idempotency key and its own effect compensated before the earlier steps', () => {
    const d = new Drive(machine, { name: 'x' });
    d.send(done('a', { aId: 'A1' })).send(failWithKey('b', 'i1:b:3'));
    expect(d.snapshot.value).toEqual({ compensating: 'b_recovery' });
    expect(d.snapshot.hasTag('rolling_back')).toBe(true);
    expect(d.started.at(-1)).toEqual({
      id: 'recover.b',
      src: 'createB',
      input: { statekeeperRecovery: { idempotencyKey: 'i1:b:3', input: { aId: 'A1' } } },
    });
    expect(sagaStepStatuses(machine, d.snapshot).map((s) => s.status)).toEqual(['completed', 'compensating', 'pending']);

    d.send(done('recover.b', { applied: true, result: { bId: 'B1' } }));
    expect(d.snapshot.value).toEqual({ compensating: 'b' });
    expect(d.started.at(-1)).toEqual({ id: 'compensate.b', src: 'deleteB', input: { bId: 'B1' } });
    d.send(done('compensate.b')).send(done('compensate.a'));
    expect(d.snapshot.output).toMatchObject({ outcome: 'rolled_back', failure: { step: 'b', idempotencyKey: 'i1:b:3' } });
    expect(sagaStepStatuses(machine, d.snapshot).map((s) => s.status)).toEqual(['compensated', 'compensated', 'pending']);
  });

  it('goes on with the earlier steps when the lookup says the call never applied', () => {
    const d = new Drive(machine, { name: 'x' });
    d.send(done('a', { aId: 'A1' }))
      .send(failWithKey('b', 'k'))
      .send(done('recover.b', { applied: false }));
    expect(d.snapshot.value).toEqual({ compensating: 'a' });
    d.send(done('compensate.a'));
    expect(d.startedIds).toEqual(['a', 'b', 'recover.b', 'compensate.a']);
    expect(sagaStepStatuses(machine, d.snapshot).map((s) => s.status)).toEqual(['compensated', 'failed', 'pending']);
  });

  it('waits for an operator when the lookup keeps failing; resolve goes on with the earlier steps', () => {
    const d = new Drive(machine, { name: 'x' });
    d.send(done('a', { aId: 'A1' }))
      .send(failWithKey('b', 'k'))
      .send(fail('recover.b', 'b unreachable'));
    expect(d.snapshot.value).toEqual({ compensating: 'b_recovery_failed' });
    expect(sagaStepStatuses(machine, d.snapshot)[1]).toMatchObject({ status: 'compensation_failed', error: { message: 'b unreachable' } });
    d.send({ type: 'operator.retry' });
    expect(d.snapshot.value).toEqual({ compensating: 'b_recovery' });
    d.send(fail('recover.b')).send({ type: 'operator.resolve', reason: 'checked: nothing was created' });
    expect(d.snapshot.value).toEqual({ compensating: 'a' });
  });

  it('survives persist and restore while the lookup runs', () => {
    const d = new Drive(machine, { name: 'x' });
    d.send(done('a', { aId: 'A1' })).send(failWithKey('b', 'k'));
    const restored = machine.resolveState(JSON.parse(JSON.stringify(machine.getPersistedSnapshot(d.snapshot))));
    expect(restored.context.failure).toMatchObject({ step: 'b', idempotencyKey: 'k' });
    expect(restored.value).toEqual({ compensating: 'b_recovery' });
  });

  it('is not looked up after a definite rejection, a step declaring that failures apply nothing, or an error without a key', () => {
    const rejected = new Drive(machine, { name: 'x' }).send(done('a', { aId: 'A1' })).send(failWithKey('b', 'k', true));
    expect(rejected.snapshot.value).toEqual({ compensating: 'a' });
    expect(rejected.snapshot.context.failure).not.toHaveProperty('idempotencyKey');
    const declared = new Drive(machine, { name: 'x' })
      .send(done('a', { aId: 'A1' }))
      .send(done('b', { bId: 'B1' }))
      .send(failWithKey('c', 'k'));
    expect(declared.snapshot.value).toEqual({ compensating: 'b' });
    const keyless = new Drive(machine, { name: 'x' }).send(done('a', { aId: 'A1' })).send(fail('b'));
    expect(keyless.snapshot.value).toEqual({ compensating: 'a' });
  });
});
