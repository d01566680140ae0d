import type { EffectRecord, StepView, StepViewSource } from '../runtime/index.ts';
import { effectTimes, invokedSteps } from '../runtime/index.ts';
import { sagaMetaOf, sagaStepStatuses, type SagaSnapshotLike } from './saga-status.ts';
import { compensationInvokeId } from './saga-types.ts';

/**
 * The step view of a saga, for `runtime.register(machine, { stepView: sagaStepView })`:
 * its declared steps in order with statuses from the snapshot (pending,
 * running, completed, compensating, compensated, skipped, failed) and
 * attempts, errors and times from the effect rows of the action and of its
 * compensation. A machine not built with `defineSaga` gets the runtime's
 * default (one entry per invoked step).
 */
export const sagaStepView: StepViewSource = (machine, snapshot, effects): StepView[] => {
  if (!sagaMetaOf(machine)) return invokedSteps(effects);
  const steps = effects.filter((e) => e.kind === 'step');
  const latest = (name: string): EffectRecord | undefined => steps.filter((e) => e.name === name).at(-1);
  return sagaStepStatuses(machine, snapshot as SagaSnapshotLike).map((v) => {
    const action = latest(v.step);
    const undo = latest(compensationInvokeId(v.step));
    return {
      ...effectTimes(action),
      step: v.step,
      status: v.status,
      error: v.error ?? action?.error ?? null,
      output: v.result ?? null,
      compensationAttempts: undo?.attempts ?? 0,
      compensation: undo
        ? { status: undo.status, error: undo.error ?? undo.lastError, startedAt: undo.createdAt, finishedAt: undo.closedAt }
        : null,
      resolution: v.resolution ?? null,
    };
  });
};
