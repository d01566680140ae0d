import { and, assign, createMachine, not, or, setup, stateIn } from 'xstate';
import type { IdenticalCase } from '../case-types.ts';

/** Guards (https://stately.ai/docs/guards): inline, named, parametrised, and/or/not, stateIn. */

const combinators = setup({
  guards: {
    isAdmin: ({ context }: { context: { admin: boolean; verified: boolean; banned: boolean } }) => context.admin,
    isVerified: ({ context }) => context.verified,
    isBanned: ({ context }) => context.banned,
  },
}).createMachine({
  id: 'c-guard-combinators',
  context: { admin: false, verified: false, banned: false },
  initial: 'locked',
  states: {
    locked: {
      on: {
        enter: [
          { guard: and(['isVerified', not('isBanned')]), target: 'open' },
          { guard: or(['isAdmin', 'isBanned']), target: 'review' },
        ],
      },
    },
    open: { on: { lock: 'locked' } },
    review: { on: { lock: 'locked' } },
  },
  on: {
    admin: { actions: assign({ admin: ({ context }) => !context.admin }) },
    verify: { actions: assign({ verified: ({ context }) => !context.verified }) },
    ban: { actions: assign({ banned: ({ context }) => !context.banned }) },
  },
});

const stateInGuard = createMachine({
  id: 'c-guard-statein',
  type: 'parallel',
  states: {
    door: { initial: 'closed', states: { closed: { on: { open: 'open' } }, open: { on: { close: 'closed' } } } },
    engine: {
      initial: 'off',
      states: {
        off: { on: { start: { guard: stateIn({ door: 'closed' }), target: 'on' } } },
        on: { on: { stop: 'off' } },
      },
    },
  },
});

const parametrised = setup({
  types: { context: {} as { points: number } },
  guards: { atLeast: ({ context }, params: { min: number }) => context.points >= params.min },
}).createMachine({
  id: 'c-guard-params',
  context: { points: 0 },
  initial: 'bronze',
  on: { earn: { actions: assign({ points: ({ context, event }) => context.points + (event as any).points }) } },
  states: {
    bronze: {
      on: {
        check: [
          { guard: { type: 'atLeast', params: { min: 100 } }, target: 'gold' },
          { guard: { type: 'atLeast', params: { min: 50 } }, target: 'silver' },
        ],
      },
    },
    silver: {
      on: { check: { guard: { type: 'atLeast', params: ({ context }) => ({ min: context.points > 500 ? 1000 : 100 }) }, target: 'gold' } },
    },
    gold: { type: 'final' },
  },
});

const inlineGuards = setup({}).createMachine({
  id: 'c-guard-inline',
  context: { tries: 0 },
  initial: 'asking',
  states: {
    asking: {
      on: {
        answer: [
          { guard: ({ event }) => (event as any).value === 42, target: 'right' },
          { guard: ({ context }) => context.tries >= 2, target: 'out' },
          { actions: assign({ tries: ({ context }) => context.tries + 1 }) },
        ],
      },
    },
    right: { type: 'final' },
    out: { type: 'final' },
  },
});

export const guardCases: IdenticalCase[] = [
  {
    name: 'guard.and-or-not',
    machine: combinators,
    events: [{ type: 'enter' }, { type: 'lock' }, { type: 'admin' }, { type: 'verify' }, { type: 'ban' }],
    noGraph: true,
  },
  { name: 'guard.stateIn', machine: stateInGuard, events: [{ type: 'open' }, { type: 'close' }, { type: 'start' }, { type: 'stop' }] },
  {
    name: 'guard.parametrised',
    machine: parametrised,
    events: [{ type: 'earn', points: 30 }, { type: 'earn', points: 300 }, { type: 'check' }],
    noGraph: true,
  },
  {
    name: 'guard.inline',
    machine: inlineGuards,
    events: [
      { type: 'answer', value: 1 },
      { type: 'answer', value: 42 },
    ],
    noGraph: true,
  },
];
