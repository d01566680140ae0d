import { describe, expect, test } from 'vitest';
import { createSimulation } from '../runtime/testing/index.ts';
import { defineSaga } from './saga.ts';
import { sagaStepView } from './saga-view.ts';

const saga = defineSaga<{ n: number }, { one: { id: string }; two: { id: string }; three: { id: string } }, unknown>({
  id: 'status-saga',
  steps: [
    { name: 'one', action: 'doOne', compensation: 'undoOne', input: ({ input }) => input },
    // Its failures apply nothing ("two is down"), so a failed call is not looked up by its key.
    {
      name: 'two',
      action: 'doTwo',
      compensation: 'undoTwo',
      failureAppliesNothing: true,
      input: ({ input }) => input,
      policy: { maxAttempts: 2, initialDelayMs: 10 },
    },
    { name: 'three', action: 'doThree', compensation: 'undoThree', input: ({ input }) => input },
  ],
});

function steps(failTwo: boolean, failUndo: boolean) {
  return {
    doOne: async () => ({ id: 'o1' }),
    doTwo: async () => {
      if (failTwo) throw new Error('two is down');
      return { id: 't2' };
    },
    doThree: async () => ({ id: 'h3' }),
    undoOne: {
      run: async () => {
        if (failUndo) throw new Error('undo failed');
        return null;
      },
      policy: { maxAttempts: 1 },
    },
    undoTwo: async () => null,
    undoThree: async () => null,
  };
}

describe('saga workflow and step status derived from the runtime records', () => {
  test('completed saga', async () => {
    const sim = await createSimulation({
      machines: [{ machine: saga, options: { version: '1', stepView: sagaStepView } }],
      steps: steps(false, false),
    });
    const { id } = await sim.runtime.start({ machine: 'status-saga', input: { n: 1 } });
    await sim.settle();
    const d = await sim.runtime.describe(id);
    expect(d.workflowStatus).toBe('completed');
    expect(d.steps.map((s) => [s.step, s.status, s.attempts])).toEqual([
      ['one', 'completed', 1],
      ['two', 'completed', 1],
      ['three', 'completed', 1],
    ]);
    expect(d.steps[1]!.output).toEqual({ id: 't2' });
  });

  test('failure after retries, then a failing compensation needing an operator', async () => {
    const sim = await createSimulation({
      machines: [{ machine: saga, options: { version: '1', stepView: sagaStepView } }],
      steps: steps(true, true),
    });
    const { id } = await sim.runtime.start({ machine: 'status-saga', input: { n: 1 } });
    await sim.advance(1_000);
    const d = await sim.runtime.describe(id);
    expect(d.workflowStatus).toBe('compensation_failed');
    const [one, two, three] = d.steps;
    expect(two).toMatchObject({ status: 'failed', attempts: 2, error: { message: 'two is down' } });
    expect(one).toMatchObject({ status: 'compensation_failed', attempts: 1, compensationAttempts: 1, compensation: { status: 'failed' } });
    expect(three).toMatchObject({ status: 'pending', attempts: 0 });
    expect(d.acceptedEvents.map((e) => e.type)).toEqual(expect.arrayContaining(['operator.retry', 'operator.resolve']));
    await sim.runtime.send(id, { type: 'operator.resolve', reason: 'deleted by hand' });
    await sim.settle();
    const after = await sim.runtime.describe(id);
    expect(after.workflowStatus).toBe('rolled_back');
    expect(after.steps[0]).toMatchObject({ status: 'compensated', resolution: 'deleted by hand' });
  });
});

const pivotSaga = defineSaga<{ n: number }, { prepare: { id: string }; commit: { id: string } }, unknown>({
  id: 'pivot-saga',
  steps: [
    { name: 'prepare', action: 'doOne', compensation: 'undoOne', input: ({ input }) => input },
    { name: 'commit', action: 'doTwo', pivot: true, input: ({ input }) => input, policy: { maxAttempts: 1 } },
  ],
});

test('past the pivot: no cancel offered, a failure waits as failed, an operator resolution completes the step', async () => {
  const sim = await createSimulation({
    machines: [{ machine: pivotSaga, options: { version: '1', stepView: sagaStepView } }],
    steps: steps(true, false),
  });
  const { id } = await sim.runtime.start({ machine: 'pivot-saga', input: { n: 1 } });
  await sim.settle();
  const d = await sim.runtime.describe(id);
  expect(d.value).toEqual({ running: 'commit_failed' });
  expect(d.workflowStatus).toBe('failed');
  expect(d.acceptedEvents.map((e) => e.type)).not.toContain('workflow.cancel');
  expect(d.steps.map((s) => [s.step, s.status])).toEqual([
    ['prepare', 'completed'],
    ['commit', 'failed'],
  ]);
  const before = d.version;
  expect((await sim.runtime.cancel(id)).version).toBe(before);
  await sim.runtime.send(id, { type: 'operator.resolve', reason: 'committed by hand' });
  const after = await sim.runtime.describe(id);
  expect(after.workflowStatus).toBe('completed');
  expect(after.steps[1]).toMatchObject({ step: 'commit', status: 'completed', resolution: 'committed by hand' });
});
