import { fromPromise, type PromiseActorLogic } from 'xstate';

/**
 * Retry and timeout policy of a durable step.
 *
 * @remarks The policy is data carried by the machine definition; the runtime
 * reads it when the step is invoked. Backoff delay before attempt `n + 1` is
 * `min(maxDelayMs, initialDelayMs * backoffFactor^(n - 1))`, scaled by a random
 * factor in `[1 - jitter, 1]`.
 */
export interface StepPolicy {
  /** Total attempts including the first (default 3). */
  maxAttempts?: number;
  /** Delay before the second attempt (default 200 ms). */
  initialDelayMs?: number;
  /** Upper bound of the backoff delay (default 30 s). */
  maxDelayMs?: number;
  /** Multiplier between consecutive delays (default 2). */
  backoffFactor?: number;
  /** Share of the delay randomised away, 0..1 (default 0.2). */
  jitter?: number;
  /** Per-attempt timeout; the attempt's `AbortSignal` fires when it passes (default 30 s). */
  timeoutMs?: number;
}

/** Logic placeholder for a durable step; carries its policy for the runtime. */
export type StepLogic<TInput, TOutput> = PromiseActorLogic<TOutput, TInput> & {
  readonly statekeeperStep: { readonly policy: StepPolicy };
};

/**
 * Declares a durable step in a machine's `setup({ actors })`.
 *
 * @remarks Machines stay pure: the placeholder never runs inside XState. The
 * Statekeeper runtime sees the `xstate.spawnChild` action, records an
 * invocation row and runs the implementation registered under the same name
 * (the key in `setup({ actors })`) with an idempotency key, an `AbortSignal`
 * and the attempt number. Running the machine with a plain `createActor`
 * rejects the step with a message saying so.
 *
 * @example
 * ```ts
 * setup({ actors: { createCustomer: step<{ name: string }, { customerId: string }>({ maxAttempts: 5 }) } })
 * ```
 */
export function step<TInput, TOutput>(policy: StepPolicy = {}): StepLogic<TInput, TOutput> {
  const logic = fromPromise<TOutput, TInput>(async () => {
    throw new Error('A Statekeeper step only runs inside the Statekeeper runtime (or its simulation); register an implementation by name.');
  });
  return Object.assign(logic, { statekeeperStep: { policy: Object.freeze({ ...policy }) } });
}

/** Reads the policy a step placeholder carries, if the logic is one. */
export function stepPolicyOf(logic: unknown): StepPolicy | undefined {
  const marker = (logic as { statekeeperStep?: { policy: StepPolicy } } | undefined)?.statekeeperStep;
  return marker?.policy;
}

/**
 * Whether a failed step's call may have applied: `not_applied` when the
 * runtime knows no call took effect (the step rejected with a permanent error,
 * `retryable === false` or its `isPermanent`, or no implementation was
 * registered), `unknown` otherwise (a timeout, a lost response, a crash after
 * the call, a transient error).
 */
export type StepOutcomeKind = 'unknown' | 'not_applied';

/** What the runtime adds to a step's `xstate.error.actor.<id>` event, beside `error`. */
export interface StepOutcome {
  /** The invocation's idempotency key: undo-by-key finds what it applied under it. */
  readonly idempotencyKey: string;
  /** Calls actually made (the effect row's `attempts`). */
  readonly attempts: number;
  readonly outcome: StepOutcomeKind;
}

/** Field of a step's error event that carries its {@link StepOutcome}. */
export const STEP_OUTCOME_FIELD = 'statekeeperStep';

/**
 * The {@link StepOutcome} of a step's error event, or `undefined` for an event
 * the runtime did not send for a step (plain `createActor`, a child machine).
 *
 * @remarks It rides beside `error`, never inside it: `event.error` is what the
 * step rejected with, exactly as `fromPromise` under `createActor` delivers it.
 *
 * @example
 * ```ts
 * guard: ({ event }) => stepOutcomeOf(event)?.outcome === 'unknown'
 * ```
 */
export function stepOutcomeOf(event: unknown): StepOutcome | undefined {
  const o = (event as Record<string, unknown> | null | undefined)?.[STEP_OUTCOME_FIELD] as Partial<StepOutcome> | undefined;
  if (!o || typeof o.idempotencyKey !== 'string' || (o.outcome !== 'unknown' && o.outcome !== 'not_applied')) return undefined;
  return { idempotencyKey: o.idempotencyKey, attempts: Number(o.attempts ?? 0), outcome: o.outcome };
}
