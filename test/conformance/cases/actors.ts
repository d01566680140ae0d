import { assign, createMachine, fromPromise, sendTo, setup } from 'xstate';
import type { IdenticalCase } from '../case-types.ts';

/** Actor logic creators (https://stately.ai/docs/actors) the runtime runs durably. */

const fetchUser = fromPromise(async ({ input }: { input: { id: number } }) => ({ id: input.id, name: `user-${input.id}` }));

const promiseMachine = setup({ actors: { fetchUser } }).createMachine({
  id: 'c-frompromise',
  context: { id: 1, user: null as unknown },
  initial: 'idle',
  states: {
    idle: { on: { load: 'loading' } },
    loading: {
      invoke: {
        id: 'fetch',
        src: 'fetchUser',
        input: ({ context }) => ({ id: context.id }),
        onDone: { target: 'loaded', actions: assign({ user: ({ event }) => event.output }) },
      },
    },
    loaded: { on: { next: { target: 'loading', actions: assign({ id: ({ context }) => context.id + 1 }) } } },
  },
});

const failing = fromPromise(async ({ input }: { input: { kind: string } }) => {
  if (input.kind === 'plain') throw { type: 'ServiceNotAvailable', retryAfter: 30 };
  throw Object.assign(new Error('card declined'), { code: 'E_DECLINED' });
});

const promiseErrorMachine = setup({ actors: { failing } }).createMachine({
  id: 'c-frompromise-error',
  context: { kind: 'error', outcome: null as unknown },
  initial: 'idle',
  states: {
    idle: {
      on: {
        plain: { target: 'calling', actions: assign({ kind: 'plain' }) },
        error: { target: 'calling', actions: assign({ kind: 'error' }) },
      },
    },
    calling: {
      invoke: {
        src: 'failing',
        input: ({ context }) => ({ kind: context.kind }),
        onError: [
          {
            guard: ({ event }) => (event.error as any)?.type === 'ServiceNotAvailable',
            target: 'unavailable',
            actions: assign({ outcome: ({ event }) => event.error }),
          },
          {
            target: 'failed',
            actions: assign({
              outcome: ({ event }) => ({
                text: `Details: ${event.error}`,
                code: (event.error as any).code,
                isError: event.error instanceof Error,
              }),
            }),
          },
        ],
      },
    },
    unavailable: { on: { again: 'idle' } },
    failed: { on: { again: 'idle' } },
  },
});

const childMachine = setup({}).createMachine({
  id: 'c-child-machine-child',
  context: ({ input }: { input: { start: number } }) => ({ value: input.start }),
  initial: 'counting',
  states: {
    counting: { on: { add: { actions: assign({ value: ({ context }) => context.value + 1 }) }, done: 'finished' } },
    finished: { type: 'final' },
  },
  output: ({ context }) => ({ total: context.value }),
});

const childMachineParent = setup({ types: { context: {} as { total: number | null } }, actors: { counter: childMachine } }).createMachine({
  id: 'c-child-machine',
  context: { total: null as number | null },
  initial: 'waiting',
  states: {
    waiting: { on: { begin: 'running' } },
    running: {
      invoke: {
        id: 'counter',
        src: 'counter',
        input: { start: 10 },
        onDone: { target: 'finished', actions: assign({ total: ({ event }) => (event.output as { total: number }).total }) },
      },
      on: { add: { actions: sendTo('counter', { type: 'add' }) }, done: { actions: sendTo('counter', { type: 'done' }) } },
    },
    finished: { type: 'final' },
  },
  output: ({ context }) => context,
});

const inlineChild = setup({}).createMachine({
  id: 'c-inline-machine-child',
  initial: 'a',
  states: { a: { on: { go: 'b' } }, b: { type: 'final' } },
  output: { fromChild: true },
});

const inlineMachineParent = createMachine({
  id: 'c-inline-machine',
  context: { out: null as unknown },
  initial: 'idle',
  states: {
    idle: { on: { begin: 'running' } },
    running: {
      invoke: {
        id: 'inline',
        src: inlineChild as never,
        onDone: { target: 'done', actions: assign({ out: ({ event }) => event.output }) },
      },
    },
    done: { type: 'final' },
  },
});

const inlinePromiseMachine = createMachine({
  id: 'c-inline-promise',
  context: { doubled: 0, n: 2 },
  initial: 'idle',
  states: {
    idle: { on: { run: 'running' } },
    running: {
      invoke: {
        src: fromPromise(async ({ input }: { input: { n: number } }) => input.n * 2) as never,
        input: ({ context }: { context: { n: number } }) => ({ n: context.n }),
        onDone: {
          target: 'idle',
          actions: assign({ doubled: ({ event }) => (event as unknown as { output: number }).output, n: ({ context }) => context.n + 1 }),
        },
      },
    },
  },
});

const undefinedOutput = setup({ actors: { nothing: fromPromise(async () => undefined) } }).createMachine({
  id: 'c-promise-undefined',
  context: { outputWasUndefined: null as boolean | null },
  initial: 'idle',
  states: {
    idle: { on: { run: 'running' } },
    running: {
      invoke: {
        src: 'nothing',
        onDone: { target: 'idle', actions: assign({ outputWasUndefined: ({ event }) => event.output === undefined }) },
      },
    },
  },
});

export const actorCases: IdenticalCase[] = [
  { name: 'actor.fromPromise', machine: promiseMachine, events: [{ type: 'load' }, { type: 'next' }], noGraph: true },
  {
    name: 'actor.fromPromise-rejection',
    machine: promiseErrorMachine,
    events: [{ type: 'plain' }, { type: 'error' }, { type: 'again' }],
    noGraph: true,
  },
  {
    name: 'actor.child-machine',
    machine: childMachineParent,
    events: [{ type: 'begin' }, { type: 'add' }, { type: 'done' }],
    noGraph: true,
  },
  { name: 'actor.inline-child-machine', machine: inlineMachineParent, events: [{ type: 'begin' }], noGraph: true },
  { name: 'actor.inline-fromPromise', machine: inlinePromiseMachine, events: [{ type: 'run' }], noGraph: true },
  { name: 'actor.fromPromise-undefined-output', machine: undefinedOutput, events: [{ type: 'run' }], noGraph: true },
];
