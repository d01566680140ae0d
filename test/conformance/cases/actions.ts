import { assign, cancel, emit, enqueueActions, raise, sendParent, sendTo, setup, spawnChild, stopChild } from 'xstate';
import type { IdenticalCase } from '../case-types.ts';

/** Built-in actions (https://stately.ai/docs/actions), one machine each. */

const assignMachine = setup({}).createMachine({
  id: 'c-assign',
  context: { count: 0, history: [] as number[] },
  on: {
    inc: { actions: assign({ count: ({ context }) => context.count + 1 }) },
    add: {
      actions: assign(({ context, event }) => ({
        count: context.count + (event as any).n,
        history: [...context.history, (event as any).n],
      })),
    },
    reset: { actions: assign({ count: 0 }) },
  },
});

const raiseMachine = setup({}).createMachine({
  id: 'c-raise',
  context: { seen: [] as string[] },
  initial: 'idle',
  states: {
    idle: { on: { go: { target: 'a', actions: [raise({ type: 'next' }), assign({ seen: ({ context }) => [...context.seen, 'go'] })] } } },
    a: { on: { next: { target: 'b', actions: assign({ seen: ({ context }) => [...context.seen, 'next'] }) } } },
    b: { entry: raise({ type: 'back' }), on: { back: 'idle' } },
  },
});

const childPinger = setup({}).createMachine({
  id: 'c-sendto-child',
  context: { pings: 0 },
  on: { ping: { actions: [assign({ pings: ({ context }) => context.pings + 1 }), sendParent({ type: 'pong' })] }, stop: '.done' },
  initial: 'running',
  states: { running: {}, done: { type: 'final' } },
  output: ({ context }) => ({ pings: context.pings }),
});

const sendToMachine = setup({ actors: { pinger: childPinger } }).createMachine({
  id: 'c-sendto',
  context: { pongs: 0, result: null as unknown },
  initial: 'talking',
  states: {
    talking: {
      invoke: { id: 'pinger', src: 'pinger', onDone: { target: 'over', actions: assign({ result: ({ event }) => event.output }) } },
      on: {
        ping: { actions: sendTo('pinger', { type: 'ping' }) },
        finish: { actions: sendTo('pinger', { type: 'stop' }) },
        pong: { actions: assign({ pongs: ({ context }) => context.pongs + 1 }) },
      },
    },
    over: { type: 'final' },
  },
  output: ({ context }) => context,
});

const replyingChild = setup({}).createMachine({
  id: 'c-sendparent-child',
  context: ({ input }: { input: { n: number } }) => ({ n: input.n }),
  entry: sendParent(({ context }) => ({ type: 'child.ready', n: context.n })),
  on: { work: { actions: sendParent(({ context }) => ({ type: 'child.result', value: context.n * 2 })) } },
});

const sendParentMachine = setup({ actors: { child: replyingChild } }).createMachine({
  id: 'c-sendparent',
  context: { ready: null as number | null, results: [] as number[] },
  invoke: { id: 'kid', src: 'child', input: { n: 21 } },
  on: {
    'child.ready': { actions: assign({ ready: ({ event }) => (event as any).n }) },
    'child.result': { actions: assign({ results: ({ context, event }) => [...context.results, (event as any).value] }) },
    work: { actions: sendTo('kid', { type: 'work' }) },
  },
});

const emitMachine = setup({}).createMachine({
  id: 'c-emit',
  context: { n: 0 },
  initial: 'a',
  states: {
    a: { entry: emit({ type: 'entered.a' }), on: { next: 'b' } },
    b: {
      entry: [assign({ n: ({ context }) => context.n + 1 }), emit(({ context }) => ({ type: 'entered.b', n: context.n }))],
      on: { next: 'a' },
    },
  },
  on: { notify: { actions: emit(({ event }) => ({ type: 'notified', by: (event as any).by ?? 'nobody' })) } },
});

const enqueueMachine = setup({
  types: { context: {} as { count: number; log: string[] }, emitted: {} as { type: 'odd'; count: number } },
}).createMachine({
  id: 'c-enqueue',
  context: { count: 0, log: [] as string[] },
  initial: 'on',
  states: {
    on: {
      on: {
        bump: {
          actions: enqueueActions(({ context, enqueue, check }) => {
            enqueue.assign({ count: context.count + 1 });
            if (context.count % 2 === 1) enqueue.emit({ type: 'odd', count: context.count });
            if (check(({ context: c }) => c.count >= 3)) enqueue.raise({ type: 'overflow' });
            enqueue.assign({ log: ({ context: c }) => [...c.log, `bump${c.count}`] });
          }),
        },
        overflow: 'off',
      },
    },
    off: { on: { reset: { target: 'on', actions: assign({ count: 0 }) } } },
  },
});

const cancelMachine = setup({}).createMachine({
  id: 'c-cancel',
  context: { fired: 0 },
  initial: 'idle',
  states: {
    idle: {
      on: {
        arm: { target: 'armed', actions: raise({ type: 'alarm' }, { id: 'alarm', delay: 1000 }) },
      },
    },
    armed: {
      on: {
        disarm: { target: 'idle', actions: cancel('alarm') },
        alarm: { target: 'idle', actions: assign({ fired: ({ context }) => context.fired + 1 }) },
      },
    },
  },
});

const worker = setup({}).createMachine({
  id: 'c-spawnchild-worker',
  initial: 'working',
  states: { working: { on: { done: 'finished' } }, finished: { type: 'final' } },
});

const spawnChildMachine = setup({ actors: { worker } }).createMachine({
  id: 'c-spawnchild',
  context: { started: 0, stopped: 0 },
  on: {
    start: { actions: [spawnChild('worker', { id: 'w1' }), assign({ started: ({ context }) => context.started + 1 })] },
    finish: { actions: sendTo('w1', { type: 'done' }) },
    stop: { actions: [stopChild('w1'), assign({ stopped: ({ context }) => context.stopped + 1 })] },
  },
});

const selfSendMachine = setup({}).createMachine({
  id: 'c-sendto-self',
  context: { echoes: 0 },
  on: {
    shout: { actions: sendTo(({ self }) => self, { type: 'echo' }) },
    echo: { actions: assign({ echoes: ({ context }) => context.echoes + 1 }) },
    later: { actions: sendTo(({ self }) => self, { type: 'echo' }, { delay: 500 }) },
  },
});

export const actionCases: IdenticalCase[] = [
  { name: 'action.assign', machine: assignMachine, events: [{ type: 'inc' }, { type: 'add', n: 5 }, { type: 'reset' }], noGraph: true },
  { name: 'action.raise', machine: raiseMachine, events: [{ type: 'go' }, { type: 'next' }, { type: 'back' }], noGraph: true },
  { name: 'action.sendTo', machine: sendToMachine, events: [{ type: 'ping' }, { type: 'finish' }], noGraph: true },
  { name: 'action.sendParent', machine: sendParentMachine, events: [{ type: 'work' }], noGraph: true },
  { name: 'action.emit', machine: emitMachine, events: [{ type: 'next' }, { type: 'notify', by: 'ada' }], noGraph: true },
  { name: 'action.enqueueActions', machine: enqueueMachine, events: [{ type: 'bump' }, { type: 'reset' }], noGraph: true },
  { name: 'action.cancel', machine: cancelMachine, events: [{ type: 'arm' }, { type: 'disarm' }], waits: [400, 1000], noGraph: true },
  {
    name: 'action.spawnChild',
    machine: spawnChildMachine,
    events: [{ type: 'start' }, { type: 'finish' }, { type: 'stop' }],
    noGraph: true,
  },
  { name: 'action.sendTo-self', machine: selfSendMachine, events: [{ type: 'shout' }, { type: 'later' }], waits: [500], noGraph: true },
];
