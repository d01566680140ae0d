import type { StepPolicy } from '../runtime/step.ts';

/** The error a failed step delivers (`xstate.error.actor.<id>`), normalised to plain JSON. */
export interface StepError {
  message: string;
  name?: string;
  details?: unknown;
}

/** Which step failed and why; recorded in context, so it is persisted with the snapshot. */
export interface SagaFailure {
  step: string;
  error: StepError;
  /** Set when the step's outcome is unknown: the key its action is asked by whether it applied. */
  idempotencyKey?: string;
}

/** A failed compensation an operator declared done by hand (`operator.resolve`). */
export interface SagaResolution {
  step: string;
  reason: string;
}

/**
 * Context of every saga machine.
 *
 * @remarks Persisted data: renaming a field needs a snapshot migration.
 * `results` holds each completed step's output under the step name; it is the
 * compensation data. A skipped step has no entry in `results`.
 */
export interface SagaContext<TInput = unknown, TResults = Record<string, unknown>> {
  input: TInput;
  results: TResults;
  skipped: string[];
  /** The forward step that failed after its retries, if any. */
  failure: SagaFailure | null;
  /** The compensation currently waiting for an operator, if any. */
  compensationFailure: SagaFailure | null;
  resolutions: SagaResolution[];
  /** Set by `workflow.cancel`; the in-flight step finishes before compensation starts. */
  cancellation: { reason: string | null } | null;
  /** True once a pivot step started: no compensation, no cancel from then on. */
  pivoted?: boolean;
}

/** Events a saga accepts besides the step results the runtime delivers. */
export type SagaEvent =
  | { type: 'workflow.cancel'; reason?: string }
  | { type: 'operator.retry' }
  | { type: 'operator.resolve'; reason: string };

/** Output of a saga's final state. */
export type SagaOutput<TOutput = unknown> =
  | { outcome: 'completed'; result: TOutput }
  | { outcome: 'rolled_back'; failure: SagaFailure | null; resolutions: SagaResolution[] }
  | { outcome: 'cancelled'; reason: string | null; failure: SagaFailure | null; resolutions: SagaResolution[] };

/** What a step's `input`, `skip` and the saga's `output` functions receive. */
export interface SagaArgs<TInput, TResults> {
  input: TInput;
  results: TResults;
}

/** One step of a saga named `TName`: an action, optionally its compensation. */
export interface SagaStepOf<TInput, TResults, TName extends string> {
  /** camelCase; becomes the state name, the action's invoke id and the key in `results`. */
  name: TName;
  /** Name of the step implementation doing the work. */
  action: string;
  /** Name of the step implementation undoing it; without one, the step is not undone. */
  compensation?: string;
  input: (args: SagaArgs<TInput, TResults>) => unknown;
  /** Defaults to `{ input, result }` (the workflow input and this step's result). */
  compensationInput?: (args: SagaArgs<TInput, TResults> & { result: NonNullable<TResults[TName & keyof TResults]> }) => unknown;
  /**
   * Point of no return (a saga "pivot"): from this step on, failures are not
   * compensated. If this step (or a later one) still fails after its retries,
   * the saga waits in `running.<step>_failed` (tag `failed`) for
   * `operator.retry` (run it again: it must be resumable) or `operator.resolve`
   * with a reason (done by hand: go on). A cancel is refused once it starts.
   * Steps after a pivot are forward-only too and declare no compensation.
   */
  pivot?: boolean;
  /** Evaluated just before the step would start; a skipped step is never compensated. */
  skip?: (args: SagaArgs<TInput, TResults>) => boolean;
  /**
   * The action's failures never leave anything applied (it only checks, or its
   * system applies all or nothing and answers for sure), so a failed step is
   * not looked up and undone by its idempotency key. Default false.
   */
  failureAppliesNothing?: boolean;
  policy?: StepPolicy;
  compensationPolicy?: StepPolicy;
  description?: string;
}

/**
 * One step of a saga; a union over the result names, so `compensationInput`
 * sees the type of its own step's result.
 */
export type SagaStepConfig<TInput, TResults> = {
  [K in Extract<keyof TResults, string>]: SagaStepOf<TInput, TResults, K>;
}[Extract<keyof TResults, string>];

/** Configuration of {@link defineSaga}. */
export interface SagaConfig<TInput, TResults, TOutput> {
  /** Machine id (persisted data). */
  id: string;
  description?: string;
  steps: readonly SagaStepConfig<TInput, TResults>[];
  /** The result of the `completed` outcome; defaults to `results`. */
  output?: (args: SagaArgs<TInput, TResults>) => TOutput;
  /**
   * Names of keys whose values are secret wherever they appear (input, results,
   * step inputs), or `'all'`: kept as root `meta.secrets`, where a store with
   * field encryption reads which values never to write in plain text.
   */
  secrets?: readonly string[] | 'all';
}

/** Static description of a saga's steps, kept in the machine's root `meta.saga`. */
export interface SagaMeta {
  steps: { name: string; action: string; compensation: string | null; skippable: boolean; forwardOnly?: boolean }[];
}

/** Status of one step, derived from a snapshot by `sagaStepStatuses`. */
export type SagaStepStatus =
  | 'pending'
  | 'running'
  | 'completed'
  | 'failed'
  | 'skipped'
  | 'compensating'
  | 'compensated'
  | 'compensation_failed';

/** Roles allowed to send operator events, as written in state `meta.roles`. */
export const OPERATOR_ROLES = ['operator'] as const;

/** Invoke id of a step's compensation (the action's invoke id is the step name). */
export function compensationInvokeId(step: string): string {
  return `compensate.${step}`;
}

/** Invoke id of the lookup that finds out what a step with an unknown outcome applied. */
export function recoveryInvokeId(step: string): string {
  return `recover.${step}`;
}
