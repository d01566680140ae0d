import type { AnyStateMachine, StateValue } from 'xstate';
import type { SagaContext, SagaMeta, SagaStepStatus, StepError } from './saga-types.ts';

/** One step's derived status, as an API or UI shows it. */
export interface SagaStepView {
  step: string;
  status: SagaStepStatus;
  /** The step's recorded output (its compensation data), when it completed. */
  result?: unknown;
  /** The action's error (`failed`) or the compensation's error (`compensation_failed`). */
  error?: StepError;
  /** Set when an operator resolved the failed compensation by hand (status `compensated`). */
  resolution?: string;
}

/** The parts of a snapshot the derivation reads; a live snapshot or a persisted one both fit. */
export interface SagaSnapshotLike {
  value: StateValue;
  context: SagaContext<unknown, Record<string, unknown>>;
}

/** Reads the step list `defineSaga` stores in the machine's root `meta.saga`. */
export function sagaMetaOf(machine: AnyStateMachine): SagaMeta | undefined {
  return (machine.root.meta as { saga?: SagaMeta } | undefined)?.saga;
}

/**
 * Derives every step's status from a saga snapshot's state value and context.
 *
 * @remarks There is no second bookkeeping: the step in flight comes from the
 * active state's `meta: { step, phase }` and tags, completed steps from
 * `context.results`, and a completed step counts as compensated once the saga
 * has moved past it in the reverse walk (or reached `rolled_back` /
 * `cancelled`). Steps without a compensation stay `completed` during a roll
 * back. Works on persisted snapshots too (it resolves the state value against
 * the machine).
 *
 * @example
 * ```ts
 * sagaStepStatuses(subscriberProvisioningMachine, snapshot).map((s) => `${s.step}: ${s.status}`);
 * ```
 */
export function sagaStepStatuses(machine: AnyStateMachine, snapshot: SagaSnapshotLike): SagaStepView[] {
  const meta = sagaMetaOf(machine);
  if (!meta) throw new Error(`Machine "${machine.id}" was not built with defineSaga: its root meta.saga is missing.`);
  const resolved = machine.resolveState({ value: snapshot.value, context: snapshot.context });
  const { context } = snapshot;

  // The step in flight, if any: the one active state node whose meta names a step.
  const active = Object.values(resolved.getMeta() as Record<string, { step?: string; phase?: string }>).find((m) => m?.step);
  const activeIndex = active ? meta.steps.findIndex((s) => s.name === active.step) : -1;
  const rollingBack =
    resolved.matches('compensating' as never) || resolved.matches('rolled_back' as never) || resolved.matches('cancelled' as never);

  return meta.steps.map((s, i): SagaStepView => {
    const view: SagaStepView = { step: s.name, status: 'pending' };
    const hasResult = Object.hasOwn(context.results, s.name);
    if (hasResult) view.result = context.results[s.name];
    if (active?.step === s.name && active.phase === 'action') {
      // A forward-only step that failed waits for an operator in `<step>_failed` (tag `failed`).
      return resolved.hasTag('failed')
        ? { ...view, status: 'failed', ...(context.failure && { error: context.failure.error }) }
        : { ...view, status: 'running' };
    }
    if (active?.step === s.name && active.phase === 'compensation') {
      const stuck = resolved.hasTag('compensation_failed');
      return stuck
        ? { ...view, status: 'compensation_failed', ...(context.compensationFailure && { error: context.compensationFailure.error }) }
        : { ...view, status: 'compensating' };
    }
    if (context.skipped.includes(s.name)) return { ...view, status: 'skipped' };
    // A failed step with a result had an unknown outcome that did apply: it is undone like the others.
    if (context.failure?.step === s.name && !hasResult) return { ...view, status: 'failed', error: context.failure.error };
    if (!hasResult) {
      // A forward-only step an operator finished by hand (operator.resolve) has no result but is done.
      const byHand = context.resolutions.find((r) => r.step === s.name);
      return byHand && s.forwardOnly ? { ...view, status: 'completed', resolution: byHand.reason } : view;
    }
    // Compensation walks backwards: everything after the step being undone is done.
    const undone = rollingBack && s.compensation !== null && (active?.phase !== 'compensation' || i > activeIndex);
    if (!undone) return { ...view, status: 'completed' };
    const resolution = context.resolutions.find((r) => r.step === s.name);
    return { ...view, status: 'compensated', ...(resolution && { resolution: resolution.reason }) };
  });
}
