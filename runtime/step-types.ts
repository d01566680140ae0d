import type { StepPolicy } from './step.ts';

/** What a step implementation receives besides its input. */
export interface StepContext {
  /** Stable per invocation (`instanceId:childId:generation`); the same on every attempt and after a restart. */
  readonly idempotencyKey: string;
  /** 1 for the first attempt. */
  readonly attempt: number;
  /** Fires when the attempt times out, the invoking state is left or the runtime stops. */
  readonly signal: AbortSignal;
  readonly instanceId: string;
  readonly tenant: string;
  /** The runtime's clock (simulated in simulation mode). */
  readonly now: () => Date;
}

/** A step implementation: does the side effect, returns a JSON-serialisable result. */
export type StepFn<TInput = any, TOutput = any> = (input: TInput, ctx: StepContext) => Promise<TOutput>;

/** A step implementation with an optional default policy (the machine's policy wins). */
export interface StepImplementation<TInput = any, TOutput = any> {
  readonly run: StepFn<TInput, TOutput>;
  readonly policy?: StepPolicy;
  /**
   * Errors that must not be retried: return true to fail the step at once.
   * Defaults to errors carrying `retryable === false`.
   */
  readonly isPermanent?: (error: unknown) => boolean;
}

/** Steps registered by name: a plain function or a full implementation. */
export type StepRegistry = Record<string, StepFn | StepImplementation>;

export type { StepPolicy };

/**
 * Input asking a step to find out, by the idempotency key of an earlier
 * invocation, whether that invocation applied and what it produced, applying
 * nothing now.
 *
 * @remarks Sent by a saga to the action of a step whose outcome is unknown
 * (it failed after its call may have applied: a lost response, a timeout),
 * so the step's own effect can be compensated. A step implementation that
 * supports it repeats its calls in lookup-only mode with `idempotencyKey` and
 * answers with a {@link StepRecoveryOutput}.
 */
export interface StepRecoveryInput<TInput = unknown> {
  readonly statekeeperRecovery: { readonly idempotencyKey: string; readonly input: TInput };
}

/** What a step answers to a {@link StepRecoveryInput}. */
export type StepRecoveryOutput<TOutput = unknown> = { applied: true; result: TOutput } | { applied: false };

/** Whether a step's input is a {@link StepRecoveryInput}. */
export function isStepRecoveryInput(input: unknown): input is StepRecoveryInput {
  const r = (input as { statekeeperRecovery?: { idempotencyKey?: unknown } } | null)?.statekeeperRecovery;
  return typeof input === 'object' && input !== null && typeof r?.idempotencyKey === 'string';
}
