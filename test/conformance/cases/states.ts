import { assign, setup } from 'xstate';
import type { IdenticalCase } from '../case-types.ts';

/**
 * State node kinds (https://stately.ai/docs/states): atomic, compound, parallel, history, final;
 * eventless and re-entering transitions; tags.
 */

const compound = setup({}).createMachine({
  id: 'c-compound',
  initial: 'off',
  states: {
    off: { on: { power: 'on' } },
    on: {
      initial: 'idle',
      on: { power: 'off' },
      states: {
        idle: { on: { play: 'playing' } },
        playing: {
          initial: 'normal',
          on: { pause: 'idle' },
          states: { normal: { on: { fast: 'fast' } }, fast: { on: { fast: 'normal' } } },
        },
      },
    },
  },
});

const parallel = setup({}).createMachine({
  id: 'c-parallel',
  type: 'parallel',
  states: {
    bold: { initial: 'off', states: { off: { on: { bold: 'on' } }, on: { on: { bold: 'off' } } } },
    italic: { initial: 'off', states: { off: { on: { italic: 'on' } }, on: { on: { italic: 'off' } } } },
    list: {
      initial: 'none',
      states: {
        none: { on: { bullets: 'bullets', numbers: 'numbers' } },
        bullets: { on: { none: 'none', numbers: 'numbers' } },
        numbers: { on: { none: 'none', bullets: 'bullets' } },
      },
    },
  },
});

const history = (id: string, type: 'shallow' | 'deep') =>
  setup({}).createMachine({
    id,
    initial: 'player',
    states: {
      player: {
        initial: 'stopped',
        on: { settings: 'settings' },
        states: {
          stopped: { on: { play: 'playing' } },
          playing: {
            initial: 'slow',
            on: { stop: 'stopped' },
            states: { slow: { on: { speed: 'fast' } }, fast: { on: { speed: 'slow' } } },
          },
          hist: { type: 'history', history: type },
        },
      },
      settings: { on: { back: 'player.hist' } },
    },
  });

const finalStates = setup({}).createMachine({
  id: 'c-final',
  context: { steps: 0 },
  initial: 'form',
  states: {
    form: {
      initial: 'name',
      states: { name: { on: { next: 'email' } }, email: { on: { next: 'complete' } }, complete: { type: 'final' } },
      onDone: { target: 'submitted', actions: assign({ steps: ({ context }) => context.steps + 1 }) },
    },
    submitted: { on: { finish: 'finished' } },
    finished: { type: 'final' },
  },
  output: ({ context }) => ({ steps: context.steps, ok: true }),
});

const parallelDone = setup({}).createMachine({
  id: 'c-parallel-final',
  initial: 'work',
  states: {
    work: {
      type: 'parallel',
      states: {
        upload: { initial: 'pending', states: { pending: { on: { uploaded: 'done' } }, done: { type: 'final' } } },
        scan: { initial: 'pending', states: { pending: { on: { scanned: 'done' } }, done: { type: 'final' } } },
      },
      onDone: 'complete',
    },
    complete: { type: 'final' },
  },
});

const eventless = setup({ guards: { big: ({ context }) => context.n >= 3 } }).createMachine({
  id: 'c-always',
  context: { n: 0 },
  initial: 'small',
  states: {
    small: { always: { guard: 'big', target: 'large' }, on: { add: { actions: assign({ n: ({ context }) => context.n + 1 }) } } },
    large: {
      always: { guard: ({ context }) => context.n > 4, target: 'huge' },
      on: { add: { actions: assign({ n: ({ context }) => context.n + 1 }) } },
    },
    huge: { type: 'final' },
  },
});

const reenter = setup({}).createMachine({
  id: 'c-reenter',
  context: { entries: 0, exits: 0 },
  initial: 'active',
  states: {
    active: {
      entry: assign({ entries: ({ context }) => context.entries + 1 }),
      exit: assign({ exits: ({ context }) => context.exits + 1 }),
      on: { again: { target: 'active', reenter: true }, same: { target: 'active' }, stay: {} },
    },
  },
});

const tags = setup({}).createMachine({
  id: 'c-tags',
  initial: 'idle',
  states: {
    idle: { tags: ['ready'], on: { fetch: 'loading' } },
    loading: { tags: ['busy', 'spinner'], on: { ok: 'ready', fail: 'idle' } },
    ready: { tags: ['ready', 'done'] },
  },
});

const wildcard = setup({}).createMachine({
  id: 'c-wildcard',
  context: { last: '' },
  on: {
    'feedback.*': { actions: assign({ last: ({ event }) => `partial:${event.type}` }) },
    '*': { actions: assign({ last: ({ event }) => `any:${event.type}` }) },
    exact: { actions: assign({ last: 'exact' }) },
  },
});

export const stateCases: IdenticalCase[] = [
  { name: 'state.compound', machine: compound, events: [{ type: 'power' }, { type: 'play' }, { type: 'pause' }, { type: 'fast' }] },
  {
    name: 'state.parallel',
    machine: parallel,
    events: [{ type: 'bold' }, { type: 'italic' }, { type: 'bullets' }, { type: 'numbers' }, { type: 'none' }],
  },
  {
    name: 'state.history-shallow',
    machine: history('c-history-shallow', 'shallow'),
    events: [{ type: 'play' }, { type: 'speed' }, { type: 'settings' }, { type: 'back' }, { type: 'stop' }],
  },
  {
    name: 'state.history-deep',
    machine: history('c-history-deep', 'deep'),
    events: [{ type: 'play' }, { type: 'speed' }, { type: 'settings' }, { type: 'back' }, { type: 'stop' }],
  },
  { name: 'state.final', machine: finalStates, events: [{ type: 'next' }, { type: 'finish' }] },
  { name: 'state.parallel-final', machine: parallelDone, events: [{ type: 'uploaded' }, { type: 'scanned' }] },
  { name: 'transition.always', machine: eventless, events: [{ type: 'add' }], noGraph: true },
  { name: 'transition.reenter', machine: reenter, events: [{ type: 'again' }, { type: 'same' }, { type: 'stay' }], noGraph: true },
  { name: 'state.tags', machine: tags, events: [{ type: 'fetch' }, { type: 'ok' }, { type: 'fail' }] },
  {
    name: 'transition.wildcard',
    machine: wildcard,
    events: [{ type: 'feedback.good' }, { type: 'other' }, { type: 'exact' }],
    noGraph: true,
  },
];
