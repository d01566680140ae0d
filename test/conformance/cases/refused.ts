import {
  assign,
  fromCallback,
  fromEventObservable,
  fromObservable,
  fromTransition,
  log,
  setup,
  spawnChild,
  type Subscribable,
} from 'xstate';
import type { RefusedCase } from '../case-types.ts';

/** Features the runtime refuses at registration (`unsupported_machine`), one machine each, as the XState docs write them. */

const never = { subscribe: () => ({ unsubscribe() {} }) } as unknown as Subscribable<never>;

const callback = setup({
  actors: {
    ticker: fromCallback(({ sendBack }) => {
      const id = setInterval(() => sendBack({ type: 'tick' }), 1000);
      return () => clearInterval(id);
    }),
  },
}).createMachine({ id: 'r-callback', initial: 'on', states: { on: { invoke: { src: 'ticker' } } } });

const observable = setup({ actors: { values: fromObservable(() => never) } }).createMachine({
  id: 'r-observable',
  initial: 'watching',
  states: { watching: { invoke: { src: 'values', onSnapshot: {} } } },
});

const eventObservable = setup({ actors: { clicks: fromEventObservable(() => never) } }).createMachine({
  id: 'r-event-observable',
  invoke: { src: 'clicks' },
});

const transitionLogic = setup({ actors: { counter: fromTransition((n: number) => n + 1, 0) } }).createMachine({
  id: 'r-transition',
  initial: 'a',
  states: { a: { invoke: { id: 'c', src: 'counter' } } },
});

const child = setup({}).createMachine({ id: 'r-system-child' });
const systemId = setup({ actors: { child } }).createMachine({
  id: 'r-system-id',
  initial: 'running',
  states: { running: { invoke: { src: 'child', systemId: 'notifier' } } },
});

const inlineSpawn = setup({}).createMachine({
  id: 'r-spawn-inline',
  initial: 'idle',
  states: { idle: { on: { go: { actions: spawnChild(setup({}).createMachine({ id: 'inline-spawned' }), { id: 'x' } as never) } } } },
});

const custom = setup({ actions: { track: () => {} } }).createMachine({
  id: 'r-custom-action',
  initial: 'a',
  states: { a: { on: { go: { target: 'b', actions: 'track' } } }, b: {} },
});

const inlineCustom = setup({}).createMachine({
  id: 'r-inline-action',
  context: { n: 0 },
  entry: [assign({ n: 1 }), ({ context }) => void context],
});

const logging = setup({}).createMachine({
  id: 'r-log',
  initial: 'a',
  states: { a: { on: { go: { target: 'b', actions: log('going') } } }, b: {} },
});

const spawnInAssign = setup({ actors: { child: setup({}).createMachine({ id: 'r-spawned' }) } }).createMachine({
  id: 'r-spawn-in-assign',
  context: { ref: null as unknown },
  initial: 'idle',
  states: { idle: { on: { go: { actions: assign({ ref: ({ spawn }) => spawn('child') }) } } } },
});

const spawnInContext = setup({ actors: { child: setup({}).createMachine({ id: 'r-spawned-ctx' }) } }).createMachine({
  id: 'r-spawn-in-context',
  context: ({ spawn }) => ({ ref: spawn('child') }),
});

export const refusedCases: RefusedCase[] = [
  {
    name: 'refused.spawn-in-assign',
    machine: spawnInAssign,
    mentions: ['r-spawn-in-assign', 'state idle', 'spawn() inside assign()', 'spawnChild('],
  },
  { name: 'refused.spawn-in-context', machine: spawnInContext, mentions: ['r-spawn-in-context', '(root) context', 'spawnChild('] },
  { name: 'refused.fromCallback', machine: callback, mentions: ['r-callback', 'state on', 'actor "ticker"', 'fromCallback'] },
  { name: 'refused.fromObservable', machine: observable, mentions: ['r-observable', 'state watching', 'fromObservable'] },
  { name: 'refused.fromEventObservable', machine: eventObservable, mentions: ['r-event-observable', 'fromEventObservable'] },
  { name: 'refused.fromTransition', machine: transitionLogic, mentions: ['r-transition', 'state a', 'fromTransition'] },
  { name: 'refused.systemId', machine: systemId, mentions: ['r-system-id', 'state running', 'systemId "notifier"', "sendTo('"] },
  {
    name: 'refused.spawnChild-inline-logic',
    machine: inlineSpawn,
    mentions: ['r-spawn-inline', 'state idle', 'spawnChild with inline logic', 'setup({ actors'],
  },
  {
    name: 'refused.custom-action',
    machine: custom,
    mentions: ['r-custom-action', 'state a', 'custom action "track"', 'allowCustomActions'],
  },
  { name: 'refused.inline-custom-action', machine: inlineCustom, mentions: ['r-inline-action', 'state (root)', 'custom action'] },
  { name: 'refused.log', machine: logging, mentions: ['r-log', 'state a', 'the log action', 'allowCustomActions'] },
];
