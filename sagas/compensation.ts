import { and, assign } from 'xstate';
import { compensationInvokeId, OPERATOR_ROLES, type SagaFailure, type SagaResolution, type StepError } from './saga-types.ts';

/**
 * Building blocks for compensating exits, shared by `defineSaga` and
 * hand-written machines: an undo state that invokes the compensation, and the
 * state that waits for an operator when the undo keeps failing.
 */

/** Context fields the compensation blocks read and write. */
export interface CompensationContext {
  compensationFailure: SagaFailure | null;
  resolutions: SagaResolution[];
}

/** Where to go once a compensation is done (or resolved by hand); tried in order like XState transitions. */
export interface CompensationNext {
  target: string;
  guard?: unknown;
  actions?: unknown[];
}

/** Options of {@link compensationStates}. */
export interface CompensationStatesOptions<TContext> {
  /** The step being undone: names the states `<step>` and `<step>_failed` and appears in their meta. */
  step: string;
  /** Actor name of the undo step. */
  src: string;
  input: (args: { context: TContext }) => unknown;
  next: CompensationNext[];
  description?: string;
}

/**
 * The two states of one compensation: `<step>` invokes the undo (invoke id
 * `compensate.<step>`, tag `rolling_back`); when it fails after its retries,
 * `<step>_failed` (tag `compensation_failed`) waits for `operator.retry` (run
 * it again) or `operator.resolve` with a non-empty `reason` (record it, go on).
 *
 * @remarks The machine's `setup` must include {@link compensationGuards} and
 * {@link compensationActions}. Spread the result into the `states` of the
 * parent that holds the undo chain.
 *
 * @example
 * ```ts
 * states: {
 *   ...compensationStates({
 *     step: 'account', src: 'deleteAccount', input: ({ context }) => context.account, next: [{ target: '#m.rolled_back' }],
 *   }),
 * }
 * ```
 */
export function compensationStates<TContext>(o: CompensationStatesOptions<TContext>): Record<string, any> {
  const params = { step: o.step };
  return {
    [o.step]: {
      ...(o.description && { description: o.description }),
      tags: ['rolling_back'],
      meta: { step: o.step, phase: 'compensation' },
      invoke: {
        id: compensationInvokeId(o.step),
        src: o.src,
        input: o.input,
        onDone: o.next,
        onError: { target: `${o.step}_failed`, actions: [{ type: 'recordCompensationFailure', params }] },
      },
    },
    [`${o.step}_failed`]: {
      tags: ['compensation_failed'],
      meta: { step: o.step, phase: 'compensation', roles: { 'operator.retry': OPERATOR_ROLES, 'operator.resolve': OPERATOR_ROLES } },
      on: {
        'operator.retry': { target: o.step, actions: ['clearCompensationFailure'] },
        'operator.resolve': o.next.map((n) => ({
          target: n.target,
          guard: n.guard ? and(['hasReason', n.guard as never]) : 'hasReason',
          actions: [{ type: 'recordResolution', params }, ...(n.actions ?? [])],
        })),
      },
    },
  };
}

/** Guards the compensation blocks reference; spread into `setup({ guards })`. */
export const compensationGuards = {
  hasReason: ({ event }: { event: { type: string; reason?: unknown } }) =>
    event.type === 'operator.resolve' && typeof event.reason === 'string' && event.reason.trim() !== '',
};

type Params = { step: string };
type AnyEvent = { type: string; error?: unknown; reason?: unknown };

/** Actions the compensation blocks reference; spread into `setup({ actions })`. */
export const compensationActions = {
  recordCompensationFailure: assign(
    ({ event }: { event: AnyEvent }, p: Params): Partial<CompensationContext> => ({
      compensationFailure: { step: p.step, error: toStepError(event.error) },
    }),
  ),
  clearCompensationFailure: assign((): Partial<CompensationContext> => ({ compensationFailure: null })),
  recordResolution: assign(
    ({ context, event }: { context: CompensationContext; event: AnyEvent }, p: Params): Partial<CompensationContext> => ({
      compensationFailure: null,
      resolutions: [...context.resolutions, { step: p.step, reason: String(event.reason) }],
    }),
  ),
};

/** Context fields the final outputs of a compensating machine read. */
export interface OutcomeContext extends CompensationContext {
  failure: SagaFailure | null;
  cancellation: { reason: string | null } | null;
}

/** Output of a `rolled_back` final state: the failure that started it and any manual resolutions. */
export function rolledBackOutput(context: OutcomeContext) {
  return { outcome: 'rolled_back' as const, failure: context.failure, resolutions: context.resolutions };
}

/** Output of a `cancelled` final state. */
export function cancelledOutput(context: OutcomeContext) {
  return {
    outcome: 'cancelled' as const,
    reason: context.cancellation?.reason ?? null,
    failure: context.failure,
    resolutions: context.resolutions,
  };
}

/** Normalises whatever a failed step delivered to `{ message, name?, details? }` (plain JSON). */
export function toStepError(error: unknown): StepError {
  if (error instanceof Error) {
    const details = (error as { details?: unknown }).details;
    return { message: error.message, name: error.name, ...(details !== undefined && { details }) };
  }
  if (error && typeof error === 'object' && typeof (error as StepError).message === 'string') {
    const { message, name, details } = error as StepError;
    return { message, ...(name !== undefined && { name }), ...(details !== undefined && { details }) };
  }
  return { message: String(error) };
}
