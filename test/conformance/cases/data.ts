import { assign, setup } from 'xstate';
import type { IdenticalCase } from '../case-types.ts';

/** Input, output and errors raised inside a transition (https://stately.ai/docs/input, /output). */

const withInput = setup({ types: { input: {} as { name: string; limit: number } } }).createMachine({
  id: 'c-input',
  context: ({ input }) => ({ greeting: `hello ${input.name}`, limit: input.limit, used: 0 }),
  initial: 'open',
  states: {
    open: {
      on: {
        use: [
          {
            guard: ({ context }) => context.used + 1 >= context.limit,
            target: 'closed',
            actions: assign({ used: ({ context }) => context.used + 1 }),
          },
          { actions: assign({ used: ({ context }) => context.used + 1 }) },
        ],
      },
    },
    closed: { type: 'final' },
  },
  output: ({ context }) => ({ greeting: context.greeting, used: context.used }),
});

const outputMachine = setup({}).createMachine({
  id: 'c-output',
  context: { items: [] as string[] },
  initial: 'shopping',
  states: {
    shopping: {
      on: { add: { actions: assign({ items: ({ context, event }) => [...context.items, (event as any).item] }) }, checkout: 'paid' },
    },
    paid: { type: 'final', output: ({ context }) => ({ count: context.items.length }) },
  },
  output: ({ context }) => ({ items: context.items, total: context.items.length * 10 }),
});

const throwingGuard = setup({
  guards: {
    fragile: ({ event }) => {
      if ((event as any).bad) throw new Error('guard exploded');
      return true;
    },
  },
}).createMachine({
  id: 'c-error-guard',
  initial: 'a',
  states: { a: { on: { go: { guard: 'fragile', target: 'b' } } }, b: { on: { go: { guard: 'fragile', target: 'a' } } } },
});

const throwingAction = setup({}).createMachine({
  id: 'c-error-action',
  context: { n: 0 },
  on: {
    inc: { actions: assign({ n: ({ context }) => context.n + 1 }) },
    boom: {
      actions: assign({
        n: ({ context }) => {
          if (context.n >= 1) throw new TypeError(`cannot handle ${context.n}`);
          return context.n;
        },
      }),
    },
  },
});

const throwingOutput = setup({}).createMachine({
  id: 'c-error-output',
  context: { ok: true },
  initial: 'running',
  states: { running: { on: { spoil: { actions: assign({ ok: false }) }, end: 'done' } }, done: { type: 'final' } },
  output: ({ context }) => {
    if (!context.ok) throw new RangeError('output cannot be computed');
    return { fine: true };
  },
});

const throwingDelayed = setup({}).createMachine({
  id: 'c-error-timer',
  context: { armed: 0 },
  initial: 'idle',
  states: {
    idle: { on: { arm: 'waiting' } },
    waiting: {
      after: {
        1000: {
          target: 'idle',
          actions: assign({
            armed: ({ context }) => {
              if (context.armed > 0) throw new Error('timer action failed');
              return context.armed + 1;
            },
          }),
        },
      },
    },
  },
});

const dates = setup({ types: { context: {} as { at: Date; seen: Date[] } } }).createMachine({
  id: 'c-date-context',
  context: { at: new Date(Date.UTC(2030, 0, 1)), seen: [] },
  initial: 'idle',
  states: {
    idle: {
      on: {
        tick: {
          actions: assign({
            at: ({ context }) => new Date(context.at.getTime() + 86_400_000),
            seen: ({ context }) => [...context.seen, context.at],
          }),
        },
        check: { guard: ({ context }) => context.at.getTime() > Date.UTC(2030, 0, 2), target: 'late' },
      },
    },
    late: { type: 'final' },
  },
  output: ({ context }) => ({ day: context.at.toISOString().slice(0, 10) }),
});

const errorsInContext = setup({ types: { context: {} as { last: Error | null; text: string } } }).createMachine({
  id: 'c-error-context',
  context: { last: null, text: '' },
  on: {
    fail: {
      actions: assign({
        last: ({ event }) => Object.assign(new TypeError(`bad ${(event as any).n}`, { cause: { n: (event as any).n } }), { code: 'E_BAD' }),
      }),
    },
    describe: {
      actions: assign({ text: ({ context }) => `${context.last} ${(context.last as any)?.code} ${(context.last?.cause as any)?.n}` }),
    },
  },
});

export const dataCases: IdenticalCase[] = [
  { name: 'data.date-in-context', machine: dates, events: [{ type: 'tick' }, { type: 'check' }], noGraph: true },
  {
    name: 'data.error-in-context',
    machine: errorsInContext,
    events: [{ type: 'fail', n: 1 }, { type: 'fail', n: 2 }, { type: 'describe' }],
    noGraph: true,
  },
  { name: 'data.input', machine: withInput, input: { name: 'ada', limit: 3 }, events: [{ type: 'use' }] },
  { name: 'data.output', machine: outputMachine, events: [{ type: 'add', item: 'tea' }, { type: 'checkout' }], noGraph: true },
  {
    name: 'error.guard',
    machine: throwingGuard,
    events: [{ type: 'go' }, { type: 'go', bad: true }],
    walks: [[{ send: { type: 'go' } }, { send: { type: 'go', bad: true } }, { send: { type: 'go' } }]],
    noGraph: true,
  },
  {
    name: 'error.action',
    machine: throwingAction,
    events: [{ type: 'inc' }, { type: 'boom' }],
    walks: [[{ send: { type: 'boom' } }, { send: { type: 'inc' } }, { send: { type: 'boom' } }, { send: { type: 'inc' } }]],
    noGraph: true,
  },
  {
    name: 'error.output',
    machine: throwingOutput,
    events: [{ type: 'spoil' }, { type: 'end' }],
    walks: [[{ send: { type: 'spoil' } }, { send: { type: 'end' } }]],
    noGraph: true,
  },
  {
    name: 'error.timer-action',
    machine: throwingDelayed,
    events: [{ type: 'arm' }],
    waits: [1000],
    walks: [[{ send: { type: 'arm' } }, { wait: 1000 }, { send: { type: 'arm' } }, { wait: 1000 }, { send: { type: 'arm' } }]],
    noGraph: true,
  },
];
