import { describe, expect, it } from 'vitest';
import { Drive, done, fail, spawns } from '../machines/machine-testing.ts';
import { defineSaga } from './saga.ts';
import { sagaStepStatuses } from './saga-status.ts';
import { expectRollsBackAtEveryStep, replaySagaPaths } from './saga-testing.ts';
import { stepPolicyOf } from '../runtime/step.ts';
import { MachineDefinitionError } from './errors.ts';

type In = { name: string; skipB?: boolean };
type Res = { a: { aId: string }; b?: { bId: string }; c: { cId: string }; d: { sent: boolean } };

const machine = defineSaga<In, Res, { aId: string }>({
  id: 'test-saga',
  description: 'Four steps, one skippable, the last without compensation',
  steps: [
    { name: 'a', action: 'createA', compensation: 'deleteA', input: ({ input }) => ({ name: input.name }), policy: { maxAttempts: 5 } },
    {
      name: 'b',
      action: 'createB',
      compensation: 'deleteB',
      skip: ({ input }) => !!input.skipB,
      input: ({ results }) => ({ aId: results.a.aId }),
      compensationInput: ({ result }) => ({ bId: result.bId }),
    },
    {
      name: 'c',
      action: 'createC',
      compensation: 'deleteC',
      input: ({ results }) => ({ aId: results.a.aId, bId: results.b?.bId ?? null }),
    },
    { name: 'd', action: 'notify', input: ({ results }) => ({ cId: results.c.cId }) },
  ],
  output: ({ results }) => ({ aId: results.a.aId }),
});
const outputs = { a: { aId: 'A1' }, b: { bId: 'B1' }, c: { cId: 'C1' }, d: { sent: true } };

describe('defineSaga', () => {
  it('runs the steps in order, storing each result and feeding later inputs', () => {
    const d = new Drive(machine, { name: 'x' });
    expect(d.snapshot.value).toEqual({ running: 'a' });
    expect(d.snapshot.hasTag('running')).toBe(true);
    d.send(done('a', outputs.a)).send(done('b', outputs.b)).send(done('c', outputs.c)).send(done('d', outputs.d));
    expect(d.started).toEqual([
      { id: 'a', src: 'createA', input: { name: 'x' } },
      { id: 'b', src: 'createB', input: { aId: 'A1' } },
      { id: 'c', src: 'createC', input: { aId: 'A1', bId: 'B1' } },
      { id: 'd', src: 'notify', input: { cId: 'C1' } },
    ]);
    expect(d.snapshot.status).toBe('done');
    expect(d.snapshot.output).toEqual({ outcome: 'completed', result: { aId: 'A1' } });
    expect(d.snapshot.context.results).toEqual(outputs);
  });

  it('carries each step policy on its placeholder actor and maps states to steps in meta', () => {
    expect(stepPolicyOf(machine.implementations.actors.createA)).toEqual({ maxAttempts: 5 });
    expect(stepPolicyOf(machine.implementations.actors.deleteB)).toEqual({});
    const d = new Drive(machine, { name: 'x' });
    expect(Object.values(d.snapshot.getMeta())).toContainEqual({ step: 'a', phase: 'action' });
    expect(machine.root.meta!.saga.steps.map((s: { name: string }) => s.name)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('skips a step whose guard holds, records it, and never compensates it', () => {
    const d = new Drive(machine, { name: 'x', skipB: true });
    d.send(done('a', outputs.a));
    expect(d.snapshot.value).toEqual({ running: 'c' });
    expect(d.snapshot.context.skipped).toEqual(['b']);
    expect(d.started.find((s) => s.id === 'c')?.input).toEqual({ aId: 'A1', bId: null });
    d.send(fail('c'));
    d.send(done('compensate.a'));
    expect(d.startedIds).toEqual(['a', 'c', 'compensate.a']);
    expect(d.snapshot.value).toBe('rolled_back');
    expect(sagaStepStatuses(machine, d.snapshot).map((s) => s.status)).toEqual(['compensated', 'skipped', 'failed', 'pending']);
  });

  it('compensates the completed steps in reverse order with their recorded results', () => {
    const d = new Drive(machine, { name: 'x' });
    d.send(done('a', outputs.a)).send(done('b', outputs.b)).send(done('c', outputs.c)).send(fail('d', 'smtp down'));
    expect(d.snapshot.value).toEqual({ compensating: 'c' });
    expect(d.snapshot.hasTag('rolling_back')).toBe(true);
    expect(d.snapshot.context.failure).toEqual({ step: 'd', error: { message: 'smtp down', name: 'ExternalSystemError' } });
    expect(sagaStepStatuses(machine, d.snapshot).map((s) => s.status)).toEqual(['completed', 'completed', 'compensating', 'failed']);
    d.send(done('compensate.c')).send(done('compensate.b')).send(done('compensate.a'));
    expect(d.started.slice(4)).toEqual([
      { id: 'compensate.c', src: 'deleteC', input: { input: { name: 'x' }, result: outputs.c } },
      { id: 'compensate.b', src: 'deleteB', input: { bId: 'B1' } },
      { id: 'compensate.a', src: 'deleteA', input: { input: { name: 'x' }, result: outputs.a } },
    ]);
    expect(d.snapshot.output).toEqual({ outcome: 'rolled_back', failure: d.snapshot.context.failure, resolutions: [] });
  });

  it('waits for an operator when a compensation fails: retry re-runs it, resolve records the reason and goes on', () => {
    const d = new Drive(machine, { name: 'x' });
    d.send(done('a', outputs.a)).send(done('b', outputs.b)).send(fail('c'));
    d.send(fail('compensate.b', 'b store unreachable'));
    expect(d.snapshot.value).toEqual({ compensating: 'b_failed' });
    expect(d.snapshot.status).toBe('active');
    expect(d.snapshot.hasTag('compensation_failed')).toBe(true);
    expect(d.snapshot.hasTag('rolling_back')).toBe(false);
    expect(Object.values(d.snapshot.getMeta())).toContainEqual({
      step: 'b',
      phase: 'compensation',
      roles: { 'operator.retry': ['operator'], 'operator.resolve': ['operator'] },
    });
    expect(sagaStepStatuses(machine, d.snapshot)[1]).toMatchObject({
      status: 'compensation_failed',
      error: { message: 'b store unreachable' },
    });

    d.send({ type: 'operator.retry' });
    expect(d.snapshot.value).toEqual({ compensating: 'b' });
    expect(spawns(d.actions)).toEqual([{ id: 'compensate.b', src: 'deleteB', input: { bId: 'B1' } }]);
    expect(d.snapshot.context.compensationFailure).toBeNull();

    d.send(fail('compensate.b'));
    expect(d.snapshot.can({ type: 'operator.resolve', reason: '  ' })).toBe(false);
    d.send({ type: 'operator.resolve', reason: 'deleted in the admin console' });
    expect(d.snapshot.value).toEqual({ compensating: 'a' });
    expect(d.snapshot.context.resolutions).toEqual([{ step: 'b', reason: 'deleted in the admin console' }]);
    d.send(done('compensate.a'));
    expect(d.snapshot.output).toMatchObject({ outcome: 'rolled_back', resolutions: [{ step: 'b' }] });
    expect(sagaStepStatuses(machine, d.snapshot)[1]).toMatchObject({ status: 'compensated', resolution: 'deleted in the admin console' });
  });

  it('on cancel lets the step in flight finish, then compensates it and everything before it', () => {
    const d = new Drive(machine, { name: 'x' });
    d.send(done('a', outputs.a)).send({ type: 'workflow.cancel', reason: 'customer changed mind' });
    expect(d.snapshot.value).toEqual({ running: 'b' });
    expect(spawns(d.actions)).toEqual([]);
    d.send(done('b', outputs.b));
    expect(d.snapshot.value).toEqual({ compensating: 'b' });
    expect(d.snapshot.can({ type: 'workflow.cancel' })).toBe(false);
    d.send(done('compensate.b')).send(done('compensate.a'));
    expect(d.startedIds).toEqual(['a', 'b', 'compensate.b', 'compensate.a']);
    expect(d.snapshot.output).toEqual({ outcome: 'cancelled', reason: 'customer changed mind', failure: null, resolutions: [] });
  });

  it('ends cancelled when the step in flight fails after a cancel', () => {
    const d = new Drive(machine, { name: 'x' });
    d.send({ type: 'workflow.cancel' }).send(fail('a'));
    expect(d.snapshot.value).toBe('cancelled');
    expect(d.snapshot.output).toMatchObject({ outcome: 'cancelled', reason: null, failure: { step: 'a' } });
  });

  it('compensates all completed steps when a cancel arrives during the last, uncompensated step', () => {
    const d = new Drive(machine, { name: 'x', skipB: true });
    d.send(done('a', outputs.a)).send(done('c', outputs.c)).send({ type: 'workflow.cancel' }).send(done('d', outputs.d));
    expect(d.snapshot.value).toEqual({ compensating: 'c' });
    d.send(done('compensate.c')).send(done('compensate.a'));
    expect(d.snapshot.value).toBe('cancelled');
  });

  it('derives step statuses from a persisted JSON snapshot as well as from a live one', () => {
    const d = new Drive(machine, { name: 'x' });
    d.send(done('a', outputs.a)).send(done('b', outputs.b)).send(fail('c')).send(done('compensate.b'));
    const persisted = JSON.parse(JSON.stringify(machine.getPersistedSnapshot(d.snapshot)));
    const expected = [
      { step: 'a', status: 'compensating', result: outputs.a },
      { step: 'b', status: 'compensated', result: outputs.b },
      { step: 'c', status: 'failed', error: { message: 'boom', name: 'ExternalSystemError' } },
      { step: 'd', status: 'pending' },
    ];
    expect(sagaStepStatuses(machine, d.snapshot)).toEqual(expected);
    expect(sagaStepStatuses(machine, persisted)).toEqual(expected);
  });

  it('rolls back at every step and replays its shortest paths with persist/restore', () => {
    expect(expectRollsBackAtEveryStep(machine, { name: 'x' }, outputs)).toBe(4);
    expect(expectRollsBackAtEveryStep(machine, { name: 'x', skipB: true }, outputs)).toBe(3);
    expect(replaySagaPaths(machine, { name: 'x' }, outputs)).toBeGreaterThan(20);
  });

  it('refuses definitions that would produce ambiguous persisted names', () => {
    const base = { action: 'x', input: () => ({}) };
    expect(() => defineSaga({ id: 's', steps: [] })).toThrow(MachineDefinitionError);
    expect(() => defineSaga({ id: 's', steps: [{ ...base, name: 'a_b' }] })).toThrow(/camelCase/);
    expect(() =>
      defineSaga({
        id: 's',
        steps: [
          { ...base, name: 'a' },
          { ...base, name: 'a' },
        ],
      }),
    ).toThrow(/twice/);
    expect(() => defineSaga({ id: 's', steps: [{ ...base, name: 'a', action: 'x.y' }] })).toThrow(/identifier/);
    expect(() =>
      defineSaga({
        id: 's',
        steps: [
          { ...base, name: 'a', policy: { maxAttempts: 2 } },
          { ...base, name: 'b', policy: { maxAttempts: 3 } },
        ],
      }),
    ).toThrow(/two different policies/);
  });
});
