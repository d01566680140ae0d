import { ExternalSystemError, type CallOptions } from './clients/index.ts';
import type { StepContext, StepFn, StepImplementation, StepPolicy } from '../runtime/step-types.ts';

/**
 * Small building blocks shared by the step families.
 */

/** The options every mutating client call gets: the step's idempotency key and abort signal. */
export function callOptions(ctx: StepContext, suffix?: string): CallOptions {
  // A step doing several calls derives one key per call, so a retry that
  // resumes half-way repeats each call with the key it used the first time.
  return { idempotencyKey: suffix ? `${ctx.idempotencyKey}:${suffix}` : ctx.idempotencyKey, signal: ctx.signal };
}

/** Declares a step implementation with typed input and output. */
export function defineStep<TInput, TOutput>(
  run: StepFn<TInput, TOutput>,
  options: { policy?: StepPolicy; isPermanent?: (error: unknown) => boolean } = {},
): StepImplementation<TInput, TOutput> {
  return { run, ...options };
}

/** True for an external error saying the thing is not there (HTTP 404 / 410). */
export function isNotFound(error: unknown): boolean {
  return error instanceof ExternalSystemError && (error.status === 404 || error.status === 410);
}

/**
 * Runs an undo call and treats "already gone" as success.
 *
 * @remarks Compensations must be safe to repeat: a retry after a lost
 * response, or an operator's `operator.retry`, finds the resource deleted.
 */
export async function undo(call: () => Promise<unknown>): Promise<{ alreadyGone: boolean }> {
  try {
    await call();
    return { alreadyGone: false };
  } catch (error) {
    if (isNotFound(error)) return { alreadyGone: true };
    throw error;
  }
}
