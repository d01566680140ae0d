import type { AnyStateMachine } from 'xstate';
import { sagaMetaOf, sagaStepStatuses, type SagaSnapshotLike } from '../sagas/saga-status.ts';
import { compensationInvokeId } from '../sagas/saga-types.ts';
import type { EffectRecord, InstanceRecord } from './ports.ts';

/** Workflow status as operators track it, derived from the instance row (no second bookkeeping). */
export type WorkflowStatus = 'pending' | 'running' | 'completed' | 'failed' | 'rolling_back' | 'rolled_back' | 'compensation_failed' | 'cancelled';

/** One step of a workflow as operators see it. */
export interface StepView {
  step: string;
  status: 'pending' | 'running' | 'completed' | 'failed' | 'skipped' | 'compensating' | 'compensated' | 'compensation_failed';
  /** Attempts of the action (latest invocation). */
  attempts: number;
  compensationAttempts: number;
  error: unknown;
  /** The error of the latest failed attempt while retries go on. */
  lastError: unknown;
  startedAt: Date | null;
  finishedAt: Date | null;
  output: unknown;
  compensation: { status: string; error: unknown; startedAt: Date; finishedAt: Date | null } | null;
  resolution: string | null;
}

/**
 * Workflow status: instance status, then the state's tags (`rolling_back`,
 * `compensation_failed`), then a finished instance's `output.outcome`.
 */
export function workflowStatus(record: Pick<InstanceRecord, 'status' | 'tags' | 'output'>, effects: readonly EffectRecord[]): WorkflowStatus {
  if (record.status === 'stopped') return 'cancelled';
  if (record.status === 'error') return 'failed';
  if (record.status === 'done') {
    const outcome = (record.output as { outcome?: unknown } | null)?.outcome;
    if (outcome === 'rolled_back' || outcome === 'cancelled' || outcome === 'failed' || outcome === 'compensation_failed') return outcome;
    return 'completed';
  }
  if (record.tags.includes('compensation_failed')) return 'compensation_failed';
  // A forward-only saga step (past its pivot) that failed waits for an operator.
  if (record.tags.includes('failed')) return 'failed';
  if (record.tags.includes('rolling_back')) return 'rolling_back';
  return effects.length === 0 && record.tags.includes('pending') ? 'pending' : 'running';
}

/**
 * Steps of an instance: for a saga, its declared steps with statuses from the
 * snapshot and attempts, errors and times from the effect rows; otherwise one
 * entry per invoked step (latest invocation of each invoke id).
 */
export function stepViews(machine: AnyStateMachine, snapshot: SagaSnapshotLike, effects: readonly EffectRecord[]): StepView[] {
  const steps = effects.filter((e) => e.kind === 'step');
  const latest = (name: string) => steps.filter((e) => e.name === name).at(-1);
  const meta = sagaMetaOf(machine);
  if (!meta) {
    const names = [...new Set(steps.map((e) => e.name))];
    return names.map((name) => {
      const e = latest(name)!;
      const status = e.status === 'pending' ? 'running' : e.status === 'done' ? 'completed' : e.status === 'failed' ? 'failed' : 'pending';
      return { ...base(e), step: name, status, output: e.result, compensationAttempts: 0, compensation: null, resolution: null };
    });
  }
  return sagaStepStatuses(machine, snapshot).map((v) => {
    const action = latest(v.step);
    const undo = latest(compensationInvokeId(v.step));
    return {
      ...base(action),
      step: v.step,
      status: v.status,
      error: v.error ?? action?.error ?? null,
      output: v.result ?? null,
      compensationAttempts: undo?.attempts ?? 0,
      compensation: undo ? { status: undo.status, error: undo.error ?? undo.lastError, startedAt: undo.createdAt, finishedAt: undo.closedAt } : null,
      resolution: v.resolution ?? null,
    };
  });
}

function base(e: EffectRecord | undefined) {
  return { attempts: e?.attempts ?? 0, error: e?.error ?? null, lastError: e?.lastError ?? null, startedAt: e?.createdAt ?? null, finishedAt: e?.closedAt ?? null };
}
