import { assign, cancel, raise, sendParent, sendTo, setup } from 'xstate';
import type { IdenticalCase } from '../case-types.ts';

/** Delayed transitions and delayed events (https://stately.ai/docs/delayed-transitions). */

const after = setup({}).createMachine({
  id: 'c-after',
  context: { timeouts: 0 },
  initial: 'green',
  states: {
    green: { after: { 1000: 'yellow' }, on: { skip: 'yellow' } },
    yellow: { after: { 500: { target: 'red', actions: assign({ timeouts: ({ context }) => context.timeouts + 1 }) } } },
    red: { after: { 2000: 'green' }, on: { skip: 'green' } },
  },
});

const namedDelay = setup({
  delays: { patience: 3000, quick: ({ context }: { context: { factor: number } }) => 100 * context.factor },
}).createMachine({
  id: 'c-after-named',
  context: { factor: 2 },
  initial: 'waiting',
  states: {
    waiting: {
      after: { quick: 'quickDone' },
      on: { slower: { actions: assign({ factor: ({ context }) => context.factor * 2 }), target: 'waiting', reenter: true } },
    },
    quickDone: { after: { patience: 'waiting' } },
  },
});

const delayedRaise = setup({}).createMachine({
  id: 'c-delayed-raise',
  context: { ticks: 0 },
  initial: 'on',
  states: {
    on: {
      entry: raise({ type: 'tick' }, { delay: 250, id: 'tick' }),
      on: { tick: { target: 'on', reenter: true, actions: assign({ ticks: ({ context }) => context.ticks + 1 }) }, off: 'off' },
    },
    off: { on: { on: 'on' } },
  },
});

const timerChild = setup({}).createMachine({
  id: 'c-delayed-sendto-child',
  context: { got: 0 },
  on: { poke: { actions: [assign({ got: ({ context }) => context.got + 1 })] } },
});

const delayedSendTo = setup({ actors: { timerChild } }).createMachine({
  id: 'c-delayed-sendto',
  context: { echoes: 0 },
  invoke: { id: 'child', src: 'timerChild' },
  on: {
    poke: { actions: sendTo('child', { type: 'poke' }, { delay: 300 }) },
    remind: { actions: sendTo(({ self }) => self, { type: 'echo' }, { delay: 700, id: 'echo' }) },
    echo: { actions: assign({ echoes: ({ context }) => context.echoes + 1 }) },
  },
});

const dynamicDelay = setup({}).createMachine({
  id: 'c-dynamic-delay',
  context: { delay: 100, fired: 0 },
  initial: 'idle',
  states: {
    idle: { on: { start: 'waiting', longer: { actions: assign({ delay: ({ context }) => context.delay * 3 }) } } },
    waiting: {
      entry: raise({ type: 'ring' }, { delay: ({ context }) => context.delay }),
      on: { ring: { target: 'idle', actions: assign({ fired: ({ context }) => context.fired + 1 }) } },
    },
  },
});

const sameInstant = setup({}).createMachine({
  id: 'c-same-instant',
  context: { order: [] as string[] },
  initial: 'idle',
  states: {
    idle: {
      on: {
        arm: {
          target: 'armed',
          actions: [
            raise({ type: 'tick', n: 'c' }, { delay: 1000, id: 'z' }),
            raise({ type: 'tick', n: 'a' }, { delay: 1000, id: 'a' }),
            raise({ type: 'tick', n: 'b' }, { delay: 1000, id: 'm' }),
          ],
        },
      },
    },
    armed: { on: { tick: { actions: assign({ order: ({ context, event }) => [...context.order, (event as any).n] }) }, disarm: 'idle' } },
  },
});

/**
 * Delayed events sharing one id. XState's scheduler keeps every timer but holds only the newest under the id:
 * `cancel(id)` cancels that one, and once any timer of the id has fired it holds none, so `cancel` cancels nothing.
 */
const ring = (n: string, delay: number) => raise({ type: 'ring', n } as never, { id: 'bell', delay });
const sameIdCancel = setup({}).createMachine({
  id: 'c-cancel-same-id',
  context: { rang: [] as string[] },
  on: {
    early: { actions: ring('early', 1000) },
    late: { actions: ring('late', 3000) },
    quick: { actions: ring('quick', 200) },
    silence: { actions: cancel('bell') },
    twice: { actions: [ring('first', 500), ring('second', 500)] },
    armThenCancel: { actions: [ring('armed', 500), cancel('bell')] },
    cancelThenArm: { actions: [cancel('bell'), ring('rearmed', 500)] },
    ring: { actions: assign({ rang: ({ context, event }) => [...context.rang, (event as unknown as { n: string }).n] }) },
  },
});

/** The same with delayed sends to a child instance: the child's commit delivering a poke frees the parent's id. */
const pokedChild = setup({}).createMachine({ id: 'c-cancel-same-id-child', on: { poke: { actions: sendParent({ type: 'poked' }) } } });
const poke = (delay: number) => sendTo('kid', { type: 'poke' }, { id: 'poke', delay });
const sameIdCancelSendTo = setup({ actors: { pokedChild } }).createMachine({
  id: 'c-cancel-same-id-sendto',
  context: { poked: 0 },
  invoke: { id: 'kid', src: 'pokedChild' },
  on: {
    soon: { actions: poke(200) },
    later: { actions: poke(1000) },
    silence: { actions: cancel('poke') },
    poked: { actions: assign({ poked: ({ context }) => context.poked + 1 }) },
  },
});

export const timingCases: IdenticalCase[] = [
  { name: 'delay.after', machine: after, events: [{ type: 'skip' }], waits: [300, 1000, 2000] },
  { name: 'delay.after-named', machine: namedDelay, events: [{ type: 'slower' }], waits: [100, 500, 3000], noGraph: true },
  { name: 'delay.raise', machine: delayedRaise, events: [{ type: 'off' }, { type: 'on' }], waits: [100, 250, 1000], noGraph: true },
  { name: 'delay.sendTo', machine: delayedSendTo, events: [{ type: 'poke' }, { type: 'remind' }], waits: [300, 700], noGraph: true },
  { name: 'delay.dynamic', machine: dynamicDelay, events: [{ type: 'start' }, { type: 'longer' }], waits: [100, 300, 900], noGraph: true },
  {
    name: 'delay.same-instant-order',
    machine: sameInstant,
    walks: [[{ send: { type: 'arm' } }, { wait: 1000 }]],
    events: [{ type: 'arm' }, { type: 'disarm' }],
    waits: [1000],
    noGraph: true,
  },
  {
    name: 'delay.cancel-same-id',
    machine: sameIdCancel,
    walks: [
      // Rescheduled under the same id, then cancelled: only the newer one is cancelled, the older still rings.
      [{ send: { type: 'early' } }, { send: { type: 'late' } }, { send: { type: 'silence' } }, { wait: 3000 }],
      // The older one rings after the newer was scheduled: the id is free, the cancel cancels nothing.
      [{ send: { type: 'quick' } }, { send: { type: 'late' } }, { wait: 200 }, { send: { type: 'silence' } }, { wait: 3000 }],
      // The newer one rings first: the older is not held under the id either.
      [{ send: { type: 'late' } }, { send: { type: 'quick' } }, { wait: 200 }, { send: { type: 'silence' } }, { wait: 3000 }],
      // Two under one id in one transition: the cancel takes the second.
      [{ send: { type: 'twice' } }, { send: { type: 'silence' } }, { wait: 500 }],
      // Within one transition the order of schedule and cancel counts.
      [{ send: { type: 'early' } }, { send: { type: 'armThenCancel' } }, { send: { type: 'silence' } }, { wait: 1000 }],
      [{ send: { type: 'early' } }, { send: { type: 'cancelThenArm' } }, { wait: 1000 }, { send: { type: 'silence' } }, { wait: 1000 }],
    ],
    events: [
      { type: 'early' },
      { type: 'late' },
      { type: 'quick' },
      { type: 'silence' },
      { type: 'twice' },
      { type: 'armThenCancel' },
      { type: 'cancelThenArm' },
    ],
    waits: [200, 500, 1000, 3000],
    noGraph: true,
  },
  {
    name: 'delay.cancel-same-id-sendTo',
    machine: sameIdCancelSendTo,
    walks: [
      [{ send: { type: 'soon' } }, { send: { type: 'later' } }, { wait: 200 }, { send: { type: 'silence' } }, { wait: 1000 }],
      [{ send: { type: 'later' } }, { send: { type: 'soon' } }, { send: { type: 'silence' } }, { wait: 1000 }],
    ],
    events: [{ type: 'soon' }, { type: 'later' }, { type: 'silence' }],
    waits: [200, 1000],
    noGraph: true,
  },
];
