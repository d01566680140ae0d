import { ExternalSystemError, type CallOptions } from './clients/index.ts';
import {
  isStepRecoveryInput,
  type StepContext,
  type StepFn,
  type StepImplementation,
  type StepPolicy,
  type StepRecoveryOutput,
} from '../runtime/step-types.ts';

/** A step context whose client calls only look up what an earlier invocation applied. */
type LookupContext = StepContext & { readonly lookupOnly?: boolean };

/**
 * Small building blocks shared by the step families.
 */

/** The options every mutating client call gets: the step's idempotency key and abort signal. */
export function callOptions(ctx: StepContext, suffix?: string): CallOptions {
  // A step doing several calls derives one key per call, so a retry that
  // resumes half-way repeats each call with the key it used the first time.
  const idempotencyKey = suffix ? `${ctx.idempotencyKey}:${suffix}` : ctx.idempotencyKey;
  return { idempotencyKey, signal: ctx.signal, ...((ctx as LookupContext).lookupOnly && { lookupOnly: true }) };
}

/**
 * Declares a step implementation with typed input and output.
 *
 * @remarks The step also answers a saga's recovery request
 * ({@link StepRecoveryInput}): it runs again with the earlier invocation's key
 * with every client call in lookup-only mode, so it applies nothing and
 * returns what the earlier invocation produced (`applied: false` when a call
 * was never applied).
 */
export function defineStep<TInput, TOutput>(
  run: StepFn<TInput, TOutput>,
  options: { policy?: StepPolicy; isPermanent?: (error: unknown) => boolean } = {},
): StepImplementation<TInput, TOutput> {
  const withRecovery = async (input: TInput, ctx: StepContext): Promise<TOutput> => {
    if (!isStepRecoveryInput(input)) return run(input, ctx);
    const { idempotencyKey, input: original } = input.statekeeperRecovery;
    const lookup: LookupContext = { ...ctx, idempotencyKey, lookupOnly: true };
    return (await recover(() => run(original as TInput, lookup))) as TOutput;
  };
  return { run: withRecovery, ...options };
}

// A 404 on a lookup means the call with that key never applied.
async function recover<T>(lookup: () => Promise<T>): Promise<StepRecoveryOutput<T>> {
  try {
    return { applied: true, result: await lookup() };
  } catch (error) {
    if (isNotFound(error)) return { applied: false };
    throw error;
  }
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
