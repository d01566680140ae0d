import { and, assign } from 'xstate';
import { toStepError, type CompensationNext } from './compensation.ts';
import { OPERATOR_ROLES, recoveryInvokeId, type SagaFailure } from './saga-types.ts';
import { stepOutcomeOf } from '../runtime/step.ts';
import type { StepRecoveryInput, StepRecoveryOutput } from '../runtime/step-types.ts';

/**
 * Undo of a step whose outcome is unknown: the step failed, but its call may
 * have applied (the response was lost, it timed out, the process died after
 * the call). Such a failure is compensated too, through the step's
 * idempotency key: the action is asked by that key what it applied
 * ({@link StepRecoveryInput}), and what it applied is undone like a completed
 * step's result.
 *
 * @remarks A failure counts as unknown when the runtime's error event says so
 * beside the error (`stepOutcomeOf(event).outcome === 'unknown'`, with the
 * invocation's idempotency key); a permanent error — `retryable === false` —
 * is a definite rejection, raised before anything applied. Steps whose
 * failures never apply anything declare so and skip this.
 */

/**
 * The idempotency key of a failed invocation whose outcome is unknown, read
 * from the runtime's error event ({@link stepOutcomeOf}, beside `event.error`);
 * `undefined` for a definite rejection or an event without it.
 */
export function unknownOutcomeKey(event: unknown): string | undefined {
  const o = stepOutcomeOf(event);
  return o?.outcome === 'unknown' ? o.idempotencyKey : undefined;
}

/** Guards the recovery blocks reference; spread into `setup({ guards })`. */
export const recoveryGuards = {
  outcomeUnknown: ({ event }: { event: { type: string; error?: unknown } }) => unknownOutcomeKey(event) !== undefined,
  recoveredApplied: ({ event }: { event: { type: string; output?: unknown } }) =>
    (event.output as StepRecoveryOutput | undefined)?.applied === true,
};

/** The recovery request for the step that failed (its key is kept in `failure`). */
export function recoveryRequest(failure: SagaFailure | null, input: unknown): StepRecoveryInput {
  if (!failure?.idempotencyKey)
    throw new Error(`recovery of step "${failure?.step}" started without the failed invocation's idempotency key`);
  return { statekeeperRecovery: { idempotencyKey: failure.idempotencyKey, input } };
}

/** The result a recovery found, from its `xstate.done.actor` event. */
export function recoveredResult(event: unknown): unknown {
  const output = (event as { output: StepRecoveryOutput }).output;
  return output.applied ? (output.result ?? null) : null;
}

/** Options of {@link recoveryStates}. */
export interface RecoveryStatesOptions<TContext> {
  /** The step whose outcome is unknown: names the states `<step>_recovery` and `<step>_recovery_failed`. */
  step: string;
  /** Actor name of the step's action. */
  src: string;
  /** The action's original input; the recovery request wraps it with the failed invocation's key. */
  input: (args: { context: TContext }) => unknown;
  /** Stores the recovered result where the compensation reads it (`recoveredResult(event)`). */
  store: unknown;
  /** The compensation state of the step, entered when the call did apply. */
  compensation: string;
  /** Where to go when it did not apply (or an operator resolves the recovery by hand). */
  next: CompensationNext[];
}

/**
 * The two states that find out what a step with an unknown outcome applied:
 * `<step>_recovery` (tag `rolling_back`) invokes the action with a recovery
 * request (invoke id `recover.<step>`), then compensates what it applied or
 * goes on; if the lookup keeps failing, `<step>_recovery_failed` (tag
 * `compensation_failed`) waits for `operator.retry` or `operator.resolve`.
 *
 * @remarks The machine's `setup` needs {@link recoveryGuards} and the
 * compensation guards and actions. The failure must have been recorded with
 * its key (`recordFailure` keeps `unknownOutcomeKey(event)`).
 */
export function recoveryStates<TContext extends { failure: SagaFailure | null }>(o: RecoveryStatesOptions<TContext>): Record<string, any> {
  const params = { step: o.step };
  const recovery = `${o.step}_recovery`;
  const meta = { step: o.step, phase: 'compensation' };
  return {
    [recovery]: {
      tags: ['rolling_back'],
      meta,
      invoke: {
        id: recoveryInvokeId(o.step),
        src: o.src,
        input: ({ context }: { context: TContext }) => recoveryRequest(context.failure, o.input({ context })),
        onDone: [{ guard: 'recoveredApplied', target: o.compensation, actions: [o.store] }, ...o.next],
        onError: { target: `${recovery}_failed`, actions: [{ type: 'recordCompensationFailure', params }] },
      },
    },
    [`${recovery}_failed`]: {
      tags: ['compensation_failed'],
      meta: { ...meta, roles: { 'operator.retry': OPERATOR_ROLES, 'operator.resolve': OPERATOR_ROLES } },
      on: {
        'operator.retry': { target: recovery, actions: ['clearCompensationFailure'] },
        'operator.resolve': o.next.map((n) => ({
          target: n.target,
          guard: n.guard ? and(['hasReason', n.guard as never]) : 'hasReason',
          actions: [{ type: 'recordResolution', params }, ...(n.actions ?? [])],
        })),
      },
    },
  };
}

/**
 * Actions the recovery blocks rely on; spread into `setup({ actions })`.
 * `recordFailure` records a failed step, with its key when its outcome is unknown.
 */
export const recoveryActions = {
  recordFailure: assign({
    failure: ({ event }: { event: { type: string; error?: unknown } }, p: { step: string }) => failureOf(p.step, event),
  }),
};

/** The failure record of a step from its error event: its error, and its key when its outcome is unknown. */
export function failureOf(step: string, event: unknown): SagaFailure {
  const idempotencyKey = unknownOutcomeKey(event);
  return {
    step,
    error: toStepError((event as { error?: unknown } | null)?.error),
    ...(idempotencyKey !== undefined && { idempotencyKey }),
  };
}
