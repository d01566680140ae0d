import { and, assign, not, setup } from 'xstate';
import {
  cancelledOutput,
  compensationActions,
  compensationGuards,
  compensationStates,
  rolledBackOutput,
  toStepError,
} from './compensation.ts';
import { MachineDefinitionError } from './errors.ts';
import {
  OPERATOR_ROLES,
  type SagaConfig,
  type SagaContext,
  type SagaEvent,
  type SagaMeta,
  type SagaOutput,
  type SagaStepOf,
} from './saga-types.ts';
import { step, type StepLogic, type StepPolicy } from '../runtime/step.ts';

type Step = SagaStepOf<any, any, string>;
type Transition = { target: string; guard?: unknown; actions?: unknown[] };
type StepParams = { step: string };

const STEP_NAME = /^[a-z][A-Za-z0-9]*$/;
const ACTOR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Turns an ordered list of steps into an ordinary XState machine: each step
 * invokes its action; a failure compensates the completed steps in reverse.
 *
 * @remarks Layout (state names are persisted data): `running.<step>` invokes
 * the action (invoke id = step name); `running.<step>_check` is a transient
 * choice in front of a step with `skip`; `compensating.<step>` invokes the
 * compensation (invoke id `compensate.<step>`); `compensating.<step>_failed`
 * waits for `operator.retry` / `operator.resolve`; final states `completed`,
 * `rolled_back`, `cancelled`. Every resting leaf carries exactly one status tag
 * (`running`, `rolling_back`, `compensation_failed`); final states are tagged
 * with their outcome. Step and compensation states carry
 * `meta: { step, phase }`, and the root `meta.saga` lists the steps.
 *
 * @example
 * ```ts
 * const m = defineSaga<{ name: string }, { customer: { customerId: string } }>({
 *   id: 'onboarding',
 *   steps: [{ name: 'customer', action: 'createCustomer', compensation: 'deleteCustomer', input: ({ input }) => input }],
 * });
 * ```
 */
export function defineSaga<TInput, TResults extends object = Record<string, any>, TOutput = TResults>(
  config: SagaConfig<TInput, TResults, TOutput>,
) {
  type Ctx = SagaContext<TInput, TResults>;
  const steps = validate(config.id, config.steps as unknown as readonly Step[]);
  const id = config.id;
  const byName = new Map(steps.map((s) => [s.name, s]));
  const ref = (path: string) => `#${id}.${path}`;
  const act = (type: string, name: string) => ({ type, params: { step: name } });

  // Target of "start step i": its gate when skippable, the end when past the last step.
  const forward = (i: number): string =>
    i >= steps.length ? ref('completed') : ref(`running.${steps[i]!.name}${steps[i]!.skip ? '_check' : ''}`);

  // Alternatives for "compensate steps 0..j in reverse". Non-skippable steps
  // before the current one have certainly completed, so only skippable ones
  // need a guard; each alternative is tried only when the previous ones failed.
  const compensate = (j: number, actions: unknown[] = [], extraGuard?: string): Transition[] => {
    const to = (target: string, guard?: unknown): Transition => {
      const g = extraGuard ? (guard ? and([extraGuard, guard as never]) : extraGuard) : guard;
      return g ? { target, guard: g, actions } : { target, actions };
    };
    const list: Transition[] = [];
    for (let k = j; k >= 0; k--) {
      const s = steps[k]!;
      if (!s.compensation) continue;
      const target = ref(`compensating.${s.name}`);
      if (!s.skip) return [...list, to(target)];
      list.push(to(target, { type: 'hasResult', params: { step: s.name } }));
    }
    return [...list, to(ref('cancelled'), 'cancelRequested'), to(ref('rolled_back'))];
  };

  const running: Record<string, unknown> = {};
  const compensating: Record<string, unknown> = {};
  const pivotIndex = steps.findIndex((s) => s.pivot);
  steps.forEach((s, i) => {
    if (pivotIndex >= 0 && i >= pivotIndex) {
      Object.assign(running, forwardOnlyStates(s, i === pivotIndex, forward(i + 1), act));
      return;
    }
    if (s.skip) {
      running[`${s.name}_check`] = {
        tags: ['running'],
        always: [
          { guard: { type: 'shouldSkip', params: { step: s.name } }, target: forward(i + 1), actions: [act('recordSkip', s.name)] },
          { target: ref(`running.${s.name}`) },
        ],
      };
    }
    const store = [act('storeResult', s.name)];
    running[s.name] = {
      description: s.description,
      tags: ['running'],
      meta: { step: s.name, phase: 'action' },
      // On each step before the pivot (not on `running`), so states past it do not even list the event.
      on: { 'workflow.cancel': { guard: 'canCancel', actions: 'recordCancel' } },
      invoke: {
        id: s.name,
        src: s.action,
        input: ({ context }: { context: Ctx }) => s.input({ input: context.input, results: context.results }),
        onDone: [
          // A cancel arrived while this step ran: keep its result, then undo it too.
          ...(s.compensation
            ? [{ guard: 'cancelRequested', target: ref(`compensating.${s.name}`), actions: store }]
            : compensate(i - 1, store, 'cancelRequested')),
          { target: forward(i + 1), actions: store },
        ],
        onError: compensate(i - 1, [act('recordFailure', s.name)]),
      },
    };
    if (!s.compensation) return;
    Object.assign(
      compensating,
      compensationStates<Ctx>({
        step: s.name,
        src: s.compensation,
        description: s.description && `Undo: ${s.description}`,
        input: ({ context }) => {
          const args = { input: context.input, results: context.results, result: context.results[s.name as keyof TResults] };
          return s.compensationInput ? s.compensationInput(args as never) : { input: args.input, result: args.result };
        },
        next: compensate(i - 1),
      }),
    );
  });

  const meta: SagaMeta = {
    steps: steps.map((s, i) => ({
      name: s.name,
      action: s.action,
      compensation: s.compensation ?? null,
      skippable: !!s.skip,
      ...(pivotIndex >= 0 && i >= pivotIndex && { forwardOnly: true }),
    })),
  };

  return setup({
    types: {
      context: {} as SagaContext<TInput, TResults>,
      input: {} as TInput,
      events: {} as SagaEvent,
      output: {} as SagaOutput<TOutput>,
    },
    actors: collectActors(id, steps),
    guards: {
      cancelRequested: ({ context }) => context.cancellation !== null,
      canCancel: ({ context }) => context.cancellation === null && context.pivoted !== true,
      hasResult: ({ context }, p: StepParams) => Object.hasOwn(context.results, p.step),
      shouldSkip: ({ context }, p: StepParams) => !!byName.get(p.step)?.skip?.({ input: context.input, results: context.results }),
      ...compensationGuards,
    },
    actions: {
      // `?? null`: an undefined output would vanish in JSON and the step would look never run.
      storeResult: assign({ results: ({ context, event }, p: StepParams) => ({ ...context.results, [p.step]: (event as { output?: unknown }).output ?? null }) }),
      recordSkip: assign({ skipped: ({ context }, p: StepParams) => [...context.skipped, p.step] }),
      recordFailure: assign({ failure: ({ event }, p: StepParams) => ({ step: p.step, error: toStepError((event as { error?: unknown }).error) }) }),
      // Typed against the minimal compensation context, which XState cannot relate to this one.
      ...(compensationActions as {}),
      recordCancel: assign({ cancellation: ({ event }) => ({ reason: (event as { reason?: string }).reason ?? null }) }),
      recordPivot: assign({ pivoted: true }),
      clearFailure: assign({ failure: null }),
      recordStepResolution: assign({
        failure: null,
        resolutions: ({ context, event }, p: StepParams) => [...context.resolutions, { step: p.step, reason: String((event as { reason?: unknown }).reason) }],
      }),
    },
  }).createMachine({
    id,
    description: config.description,
    meta: { saga: meta },
    context: ({ input }): Ctx => ({ input, results: {} as TResults, skipped: [], failure: null, compensationFailure: null, resolutions: [], cancellation: null }),
    initial: 'running',
    states: {
      running: {
        initial: forward(0).slice(ref('running.').length),
        meta: { roles: { 'workflow.cancel': OPERATOR_ROLES } },
        // Ignored while compensating and past the pivot: only the steps before it handle it.
        states: running as any,
      },
      // Always entered through an explicit child target; `initial` only satisfies XState.
      ...(Object.keys(compensating).length > 0 && { compensating: { initial: Object.keys(compensating)[0], states: compensating as any } }),
      completed: {
        type: 'final',
        tags: ['completed'],
        output: ({ context }) => ({
          outcome: 'completed' as const,
          result: config.output ? config.output({ input: context.input, results: context.results }) : (context.results as unknown as TOutput),
        }),
      },
      rolled_back: { type: 'final', tags: ['rolled_back'], output: ({ context }) => rolledBackOutput(context) },
      cancelled: { type: 'final', tags: ['cancelled'], output: ({ context }) => cancelledOutput(context) },
    },
    output: ({ event }) => (event as unknown as { output: SagaOutput<TOutput> }).output,
  });
}

/**
 * States of a forward-only step (a pivot or any step after it): failure after
 * retries waits for an operator instead of compensating.
 */
function forwardOnlyStates(s: Step, isPivot: boolean, next: string, act: (type: string, name: string) => { type: string; params: StepParams }) {
  return {
    [s.name]: {
      description: s.description,
      tags: ['running'],
      meta: { step: s.name, phase: 'action' },
      ...(isPivot && { entry: 'recordPivot' }),
      invoke: {
        id: s.name,
        src: s.action,
        input: ({ context }: { context: SagaContext<any, any> }) => s.input({ input: context.input, results: context.results }),
        onDone: { target: next, actions: [act('storeResult', s.name)] },
        onError: { target: `${s.name}_failed`, actions: [act('recordFailure', s.name)] },
      },
    },
    [`${s.name}_failed`]: {
      tags: ['failed'],
      meta: { step: s.name, phase: 'action', roles: { 'operator.retry': OPERATOR_ROLES, 'operator.resolve': OPERATOR_ROLES } },
      on: {
        'operator.retry': { target: s.name, actions: ['clearFailure'] },
        'operator.resolve': { guard: 'hasReason', target: next, actions: [act('recordStepResolution', s.name)] },
      },
    },
  };
}

function validate(id: string, steps: readonly Step[]): readonly Step[] {
  if (steps.length === 0) throw MachineDefinitionError.noSteps(id);
  const pivot = steps.findIndex((s) => s.pivot);
  for (const s of pivot >= 0 ? steps.slice(pivot) : []) {
    if (s.compensation !== undefined || s.skip !== undefined) {
      throw new MachineDefinitionError('invalid_pivot', `Saga "${id}": step "${s.name}" is at or after the pivot "${steps[pivot]!.name}", so it cannot declare a compensation or a skip guard.`);
    }
  }
  const seen = new Set<string>();
  for (const s of steps) {
    if (!STEP_NAME.test(s.name)) throw MachineDefinitionError.invalidStepName(id, s.name);
    if (seen.has(s.name)) throw MachineDefinitionError.duplicateStepName(id, s.name);
    seen.add(s.name);
    for (const actor of [s.action, s.compensation]) {
      if (actor !== undefined && !ACTOR_NAME.test(actor)) throw MachineDefinitionError.invalidActorName(id, actor);
    }
  }
  return steps;
}

// One placeholder per actor name; a name reused must carry the same policy.
function collectActors(id: string, steps: readonly Step[]): Record<string, StepLogic<any, any>> {
  const policies = new Map<string, StepPolicy>();
  const add = (name: string | undefined, policy: StepPolicy = {}) => {
    if (!name) return;
    const known = policies.get(name);
    if (known && JSON.stringify(known) !== JSON.stringify(policy)) throw MachineDefinitionError.conflictingPolicy(id, name);
    policies.set(name, policy);
  };
  for (const s of steps) {
    add(s.action, s.policy);
    add(s.compensation, s.compensationPolicy);
  }
  return Object.fromEntries([...policies].map(([name, policy]) => [name, step<any, any>(policy)]));
}
