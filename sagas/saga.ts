import { and, setup } from 'xstate';
import { cancelledOutput, compensationStates, rolledBackOutput } from './compensation.ts';
import { MachineDefinitionError } from './errors.ts';
import { recoveryStates } from './recovery.ts';
import { sagaActions, sagaGuards, type StepParams } from './saga-implementations.ts';
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
type Ctx = SagaContext<any, any>;
type Transition = { target: string; guard?: unknown; actions?: unknown[] };
type ActionRef = { type: string; params: StepParams };

const STEP_NAME = /^[a-z][A-Za-z0-9]*$/;
const ACTOR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Turns an ordered list of steps into an ordinary XState machine: each step
 * invokes its action; a failure compensates the completed steps in reverse,
 * and the failed step too when its outcome is unknown.
 *
 * @remarks Layout (state names are persisted data): `running.<step>` invokes
 * the action (invoke id = step name); `running.<step>_check` is a transient
 * choice in front of a step with `skip`; `compensating.<step>` invokes the
 * compensation (invoke id `compensate.<step>`); `compensating.<step>_failed`
 * waits for `operator.retry` / `operator.resolve`; `compensating.<step>_recovery`
 * asks the action, by the failed invocation's idempotency key, what it applied
 * (invoke id `recover.<step>`; see `recovery.ts`); final states `completed`,
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
  const plan = planSaga(config.id, validate(config.id, config.steps as unknown as readonly Step[]));
  const compensating = compensatingStates(plan);
  return setup({
    types: {
      context: {} as SagaContext<TInput, TResults>,
      input: {} as TInput,
      events: {} as SagaEvent,
      output: {} as SagaOutput<TOutput>,
    },
    actors: collectActors(plan.id, plan.steps),
    // Typed against the generic saga context, which XState cannot relate to this one.
    guards: sagaGuards(plan.steps) as {},
    actions: sagaActions as {},
  }).createMachine({
    id: plan.id,
    description: config.description,
    meta: { saga: sagaMeta(plan), ...(config.secrets && { secrets: config.secrets }) },
    context: ({ input }): SagaContext<TInput, TResults> => ({
      input,
      results: {} as TResults,
      skipped: [],
      failure: null,
      compensationFailure: null,
      resolutions: [],
      cancellation: null,
    }),
    initial: 'running',
    states: {
      running: {
        initial: plan.forward(0).slice(plan.ref('running.').length),
        meta: { roles: { 'workflow.cancel': OPERATOR_ROLES } },
        // Ignored while compensating and past the pivot: only the steps before it handle it.
        states: runningStates(plan) as any,
      },
      // Always entered through an explicit child target; `initial` only satisfies XState.
      ...(Object.keys(compensating).length > 0 && { compensating: { initial: Object.keys(compensating)[0], states: compensating as any } }),
      ...finalStates(config),
    },
    output: ({ event }) => (event as unknown as { output: SagaOutput<TOutput> }).output,
  });
}

/** The step list with the state targets every part of the layout refers to. */
interface SagaPlan {
  readonly id: string;
  readonly steps: readonly Step[];
  /** Index of the pivot step, -1 without one. */
  readonly pivotIndex: number;
  /** Absolute target of a state path (`#id.path`). */
  ref(path: string): string;
  /** Target of "start step i": its gate when skippable, the end when past the last step. */
  forward(i: number): string;
  /** Alternatives for "compensate steps 0..j in reverse", each tried only when the previous ones failed. */
  compensate(j: number, actions?: unknown[], extraGuard?: string): Transition[];
}

function planSaga(id: string, steps: readonly Step[]): SagaPlan {
  const ref = (path: string) => `#${id}.${path}`;
  const forward = (i: number): string =>
    i >= steps.length ? ref('completed') : ref(`running.${steps[i]!.name}${steps[i]!.skip ? '_check' : ''}`);
  // Non-skippable steps before the current one have certainly completed, so
  // only skippable ones need a guard.
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
  return { id, steps, pivotIndex: steps.findIndex((s) => s.pivot), ref, forward, compensate };
}

const act = (type: string, name: string): ActionRef => ({ type, params: { step: name } });

/** Whether a failure of the step may have left its effect behind, so it is looked up and undone by key. */
const recoversOnFailure = (s: Step) => !!s.compensation && !s.failureAppliesNothing;

/** The children of `running`: a gate per skippable step, then each step's state. */
function runningStates(plan: SagaPlan): Record<string, unknown> {
  const running: Record<string, unknown> = {};
  plan.steps.forEach((s, i) => {
    if (plan.pivotIndex >= 0 && i >= plan.pivotIndex) {
      Object.assign(running, forwardOnlyStates(s, i === plan.pivotIndex, plan.forward(i + 1)));
      return;
    }
    if (s.skip) running[`${s.name}_check`] = skipGate(plan, s, i);
    running[s.name] = stepState(plan, s, i);
  });
  return running;
}

/** Transient choice in front of a skippable step. */
function skipGate(plan: SagaPlan, s: Step, i: number) {
  return {
    tags: ['running'],
    always: [
      { guard: { type: 'shouldSkip', params: { step: s.name } }, target: plan.forward(i + 1), actions: [act('recordSkip', s.name)] },
      { target: plan.ref(`running.${s.name}`) },
    ],
  };
}

/** A compensable step before the pivot: invoke its action, go on, or start compensating. */
function stepState(plan: SagaPlan, s: Step, i: number) {
  const store = [act('storeResult', s.name)];
  const recordFailure = [act('recordFailure', s.name)];
  return {
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
          ? [{ guard: 'cancelRequested', target: plan.ref(`compensating.${s.name}`), actions: store }]
          : plan.compensate(i - 1, store, 'cancelRequested')),
        { target: plan.forward(i + 1), actions: store },
      ],
      onError: [
        // The call may have applied: find out by its key and undo it before the earlier steps.
        ...(recoversOnFailure(s)
          ? [{ guard: 'outcomeUnknown', target: plan.ref(`compensating.${s.name}_recovery`), actions: recordFailure }]
          : []),
        ...plan.compensate(i - 1, recordFailure),
      ],
    },
  };
}

/** The children of `compensating`: the undo (and, where needed, the recovery) of each compensable step. */
function compensatingStates(plan: SagaPlan): Record<string, unknown> {
  const compensating: Record<string, unknown> = {};
  plan.steps.forEach((s, i) => {
    if (!s.compensation) return;
    const input = ({ context }: { context: Ctx }) => s.input({ input: context.input, results: context.results });
    Object.assign(
      compensating,
      compensationStates<Ctx>({
        step: s.name,
        src: s.compensation,
        description: s.description && `Undo: ${s.description}`,
        input: ({ context }) => {
          const args = { input: context.input, results: context.results, result: context.results[s.name] };
          return s.compensationInput ? s.compensationInput(args as never) : { input: args.input, result: args.result };
        },
        next: plan.compensate(i - 1),
      }),
      recoversOnFailure(s) &&
        recoveryStates<Ctx>({
          step: s.name,
          src: s.action,
          input,
          store: act('storeRecoveredResult', s.name),
          compensation: plan.ref(`compensating.${s.name}`),
          next: plan.compensate(i - 1),
        }),
    );
  });
  return compensating;
}

/** The final states with their outputs. */
function finalStates<TInput, TResults, TOutput>(config: SagaConfig<TInput, TResults, TOutput>) {
  return {
    completed: {
      type: 'final' as const,
      tags: ['completed'],
      output: ({ context }: { context: SagaContext<TInput, TResults> }) => ({
        outcome: 'completed' as const,
        result: config.output ? config.output({ input: context.input, results: context.results }) : (context.results as unknown as TOutput),
      }),
    },
    rolled_back: { type: 'final' as const, tags: ['rolled_back'], output: ({ context }: { context: Ctx }) => rolledBackOutput(context) },
    cancelled: { type: 'final' as const, tags: ['cancelled'], output: ({ context }: { context: Ctx }) => cancelledOutput(context) },
  };
}

/** The static step list kept in the root `meta.saga`. */
function sagaMeta(plan: SagaPlan): SagaMeta {
  return {
    steps: plan.steps.map((s, i) => ({
      name: s.name,
      action: s.action,
      compensation: s.compensation ?? null,
      skippable: !!s.skip,
      ...(plan.pivotIndex >= 0 && i >= plan.pivotIndex && { forwardOnly: true }),
    })),
  };
}

/**
 * States of a forward-only step (a pivot or any step after it): failure after
 * retries waits for an operator instead of compensating.
 */
function forwardOnlyStates(s: Step, isPivot: boolean, next: string) {
  return {
    [s.name]: {
      description: s.description,
      tags: ['running'],
      meta: { step: s.name, phase: 'action' },
      ...(isPivot && { entry: 'recordPivot' }),
      invoke: {
        id: s.name,
        src: s.action,
        input: ({ context }: { context: Ctx }) => s.input({ input: context.input, results: context.results }),
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
      throw new MachineDefinitionError(
        'invalid_pivot',
        `Saga "${id}": step "${s.name}" is at or after the pivot "${steps[pivot]!.name}", ` +
          'so it cannot declare a compensation or a skip guard.',
      );
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
