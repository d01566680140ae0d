import type { AnyStateMachine, StateValue } from 'xstate';
import type { EffectRecord, InstanceRecord } from './ports.ts';

/** Workflow status as operators track it, derived from the instance row (no second bookkeeping). */
export type WorkflowStatus =
  | 'pending'
  | 'running'
  | 'completed'
  | 'failed'
  | 'rolling_back'
  | 'rolled_back'
  | 'compensation_failed'
  | 'cancelled';

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
export function workflowStatus(
  record: Pick<InstanceRecord, 'status' | 'tags' | 'output'>,
  effects: readonly EffectRecord[],
): WorkflowStatus {
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

/** The parts of an instance's snapshot a step view reads. */
export interface SnapshotLike {
  readonly value: StateValue;
  readonly context: unknown;
}

/**
 * Computes the steps of an instance for the API and dashboard; given at
 * registration (`RegisterOptions.stepView`) by libraries that know more than
 * the effect rows say (the saga library: declared steps, compensations).
 */
export type StepViewSource = (machine: AnyStateMachine, snapshot: SnapshotLike, effects: readonly EffectRecord[]) => StepView[];

/** Steps of an instance: the registration's view, or one entry per invoked step (latest invocation of each). */
export function stepViews(
  reg: { machine: AnyStateMachine; stepView?: StepViewSource },
  snapshot: SnapshotLike,
  effects: readonly EffectRecord[],
): StepView[] {
  return reg.stepView ? reg.stepView(reg.machine, snapshot, effects) : invokedSteps(effects);
}

/** One entry per invoked step, from its latest effect row. */
export function invokedSteps(effects: readonly EffectRecord[]): StepView[] {
  const steps = effects.filter((e) => e.kind === 'step');
  const names = [...new Set(steps.map((e) => e.name))];
  return names.map((name) => {
    const e = steps.filter((x) => x.name === name).at(-1)!;
    const status = e.status === 'pending' ? 'running' : e.status === 'done' ? 'completed' : e.status === 'failed' ? 'failed' : 'pending';
    return { ...effectTimes(e), step: name, status, output: e.result, compensationAttempts: 0, compensation: null, resolution: null };
  });
}

/** Attempts, errors and times of a step's effect row (zeros and nulls without one). */
export function effectTimes(e: EffectRecord | undefined) {
  return {
    attempts: e?.attempts ?? 0,
    error: e?.error ?? null,
    lastError: e?.lastError ?? null,
    startedAt: e?.createdAt ?? null,
    finishedAt: e?.closedAt ?? null,
  };
}
