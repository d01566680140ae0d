import type { AnyStateMachine } from 'xstate';
import { expect } from 'vitest';
import { Drive, childEvents, done, fail, replayShortestPaths } from '../machines/machine-testing.ts';
import { sagaMetaOf, sagaStepStatuses } from './saga-status.ts';
import { compensationInvokeId } from './saga-types.ts';

/**
 * Checks shared by the tests of every saga-built machine. Test-only.
 */

/** Runs a saga to its end (or to a failed forward-only step), answering each invocation with `outputs[id]`, failing `failAt`. */
export function runSaga(machine: AnyStateMachine, input: unknown, outputs: Record<string, unknown>, failAt?: string): Drive {
  const drive = new Drive(machine, input);
  for (let guard = 0; drive.snapshot.status === 'active'; guard++) {
    if (guard > 100) throw new Error(`saga ${machine.id} did not finish: ${JSON.stringify(drive.snapshot.value)}`);
    const [child] = Object.keys(drive.snapshot.children);
    // A forward-only step that failed waits for an operator: the run ends there.
    if (!child && drive.snapshot.hasTag('failed')) break;
    if (!child) throw new Error(`saga ${machine.id} waits without a running step in ${JSON.stringify(drive.snapshot.value)}`);
    drive.send(child === failAt ? fail(child) : done(child, outputs[child] ?? {}));
  }
  return drive;
}

/**
 * Happy path, then a failure injected at every step that runs for `input`:
 * the completed steps must be compensated in reverse order and the saga must
 * end `rolled_back`, with every step status consistent.
 * Returns the number of failure scenarios checked.
 */
export function expectRollsBackAtEveryStep(machine: AnyStateMachine, input: unknown, outputs: Record<string, unknown>): number {
  const meta = sagaMetaOf(machine)!;
  const happy = runSaga(machine, input, outputs);
  expect(happy.snapshot.output).toMatchObject({ outcome: 'completed' });
  const ran = happy.startedIds;
  for (const s of sagaStepStatuses(machine, happy.snapshot)) {
    expect(s.status).toBe(ran.includes(s.step) ? 'completed' : 'skipped');
  }

  ran.forEach((failing, index) => {
    const drive = runSaga(machine, input, outputs, failing);
    const completed = ran.slice(0, index);
    if (meta.steps.find((s) => s.name === failing)?.forwardOnly) {
      // Past the pivot nothing is undone: the saga waits for an operator.
      expect(drive.startedIds, `failure at ${failing}`).toEqual([...completed, failing]);
      expect(drive.snapshot.value).toEqual({ running: `${failing}_failed` });
      expect(drive.snapshot.hasTag('failed')).toBe(true);
      expect(sagaStepStatuses(machine, drive.snapshot).find((s) => s.step === failing)?.status).toBe('failed');
      return;
    }
    const undoable = completed.filter((name) => meta.steps.find((s) => s.name === name)?.compensation);
    const expectedUndo = [...undoable].reverse().map(compensationInvokeId);
    expect(drive.startedIds, `failure at ${failing}`).toEqual([...completed, failing, ...expectedUndo]);
    expect(drive.snapshot.value).toBe('rolled_back');
    expect(drive.snapshot.output).toMatchObject({ outcome: 'rolled_back', failure: { step: failing } });
    const statuses = Object.fromEntries(sagaStepStatuses(machine, drive.snapshot).map((s) => [s.step, s.status]));
    expect(statuses[failing]).toBe('failed');
    for (const name of undoable) expect(statuses[name]).toBe('compensated');
  });
  return ran.length;
}

/**
 * Shortest paths of a saga (operator and cancel events included), replayed and
 * restored at each end state.
 *
 * @remarks Snapshots that differ only in *which* compensations an operator
 * resolved count as one vertex (whether any was resolved still counts):
 * otherwise every subset of resolved steps is a distinct state and the graph
 * grows as 2^steps without covering any new transition.
 */
export function replaySagaPaths(machine: AnyStateMachine, input: unknown, outputs: Record<string, unknown>): number {
  return replayShortestPaths(
    machine,
    input,
    childEvents(outputs, [
      { type: 'workflow.cancel', reason: 'test' },
      { type: 'operator.retry' },
      { type: 'operator.resolve', reason: 'fixed by hand' },
    ]),
    ({ value, context }) => JSON.stringify({ value, context: { ...context, resolutions: context.resolutions.length > 0 } }),
  );
}
