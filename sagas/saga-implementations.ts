import { assign } from 'xstate';
import { compensationActions, compensationGuards } from './compensation.ts';
import { recoveredResult, recoveryActions, recoveryGuards } from './recovery.ts';
import type { SagaArgs, SagaContext } from './saga-types.ts';

/** Parameters of the per-step guards and actions. */
export type StepParams = { step: string };

type Ctx = SagaContext<unknown, Record<string, unknown>>;
type SkippableStep = { name: string; skip?: (args: SagaArgs<any, any>) => boolean };

/** Guards of a `defineSaga` machine; `shouldSkip` asks the step's own `skip`. */
export function sagaGuards(steps: readonly SkippableStep[]) {
  const byName = new Map(steps.map((s) => [s.name, s]));
  return {
    cancelRequested: ({ context }: { context: Ctx }) => context.cancellation !== null,
    canCancel: ({ context }: { context: Ctx }) => context.cancellation === null && context.pivoted !== true,
    hasResult: ({ context }: { context: Ctx }, p: StepParams) => Object.hasOwn(context.results, p.step),
    shouldSkip: ({ context }: { context: Ctx }, p: StepParams) =>
      !!byName.get(p.step)?.skip?.({ input: context.input, results: context.results }),
    ...compensationGuards,
    ...recoveryGuards,
  };
}

type AnyEvent = { type: string; output?: unknown; reason?: unknown };

/** Actions of every `defineSaga` machine. */
export const sagaActions = {
  // `?? null`: an undefined output would vanish in JSON and the step would look never run.
  storeResult: assign({
    results: ({ context, event }: { context: Ctx; event: AnyEvent }, p: StepParams) => ({
      ...context.results,
      [p.step]: event.output ?? null,
    }),
  }),
  storeRecoveredResult: assign({
    results: ({ context, event }: { context: Ctx; event: AnyEvent }, p: StepParams) => ({
      ...context.results,
      [p.step]: recoveredResult(event),
    }),
  }),
  recordSkip: assign({ skipped: ({ context }: { context: Ctx }, p: StepParams) => [...context.skipped, p.step] }),
  ...recoveryActions,
  // Typed against the minimal compensation context, which XState cannot relate to this one.
  ...(compensationActions as {}),
  recordCancel: assign({ cancellation: ({ event }: { event: AnyEvent }) => ({ reason: (event.reason as string | undefined) ?? null }) }),
  recordPivot: assign({ pivoted: true }),
  clearFailure: assign({ failure: null }),
  recordStepResolution: assign({
    failure: null,
    resolutions: ({ context, event }: { context: Ctx; event: AnyEvent }, p: StepParams) => [
      ...context.resolutions,
      { step: p.step, reason: String(event.reason) },
    ],
  }),
};
