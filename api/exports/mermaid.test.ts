import { createMachine } from 'xstate';
import { describe, expect, test } from 'vitest';
import { greetingMachine } from '../../machines/greeting.machine.ts';
import { bundledMachines } from '../../machines/index.ts';
import { approval, deadline } from '../../test/fixtures/machines.ts';
import { activeLeafPaths, mermaidStateId } from './mermaid-ids.ts';
import { delayLabel, label, machineToMermaid } from './mermaid.ts';

/** The lines of a diagram, trimmed, without the header. */
const lines = (text: string) =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);

describe('machineToMermaid', () => {
  test('greeting: initial, states with their step, final states, done/error and named-delay edges', () => {
    const text = machineToMermaid(greetingMachine);
    expect(text.startsWith('stateDiagram-v2\n  direction LR\n')).toBe(true);
    expect(lines(text)).toEqual(
      expect.arrayContaining([
        '[*] --> s_composing',
        'state "composing" as s_composing',
        's_composing : step composeGreeting',
        's_confirmed --> [*]',
        's_composing --> s_awaitingConfirmation : done compose',
        's_composing --> s_failed : error compose',
        's_awaitingConfirmation --> s_confirmed : greeting.confirm',
        's_awaitingConfirmation --> s_awaitingConfirmation : after reminder',
      ]),
    );
  });

  test('parallel regions are composite states split by --, guards in brackets, edges in the scope holding both ends', () => {
    const text = machineToMermaid(approval, { direction: 'TB' });
    expect(text).toContain('direction TB');
    const all = text.split('\n');
    const open = all.indexOf('  state "review" as s_review {');
    const divider = all.indexOf('    --');
    const close = all.indexOf('  }');
    expect(open).toBeGreaterThan(0);
    // Both regions sit inside the parallel block, on either side of the divider.
    expect(all.indexOf('    state "legal" as s_review__legal {')).toBeGreaterThan(open);
    expect(divider).toBeGreaterThan(all.indexOf('    state "legal" as s_review__legal {'));
    expect(all.indexOf('    state "finance" as s_review__finance {')).toBeGreaterThan(divider);
    expect(close).toBeGreaterThan(all.indexOf('    state "finance" as s_review__finance {'));
    // Region-local edges are written inside the region, with the region's initial marker.
    expect(all).toContain('      [*] --> s_review__finance__pending');
    expect(all).toContain('      s_review__finance__pending --> s_review__finance__second : finance.approve [large]');
    // An edge leaving the parallel state is written at the top level, after the block (not in the last region).
    expect(all.indexOf('  s_review__finance__pending --> s_rejected : finance.reject')).toBeGreaterThan(close);
    // onDone of the parallel state, and a targetless transition drawn as a self loop.
    expect(all).toContain('  s_review --> s_approved : done');
    expect(all).toContain('  s_review --> s_review : ping');
  });

  test('numeric delays read in the largest whole unit', () => {
    const text = machineToMermaid(deadline);
    expect(text).toContain('s_waiting --> s_expired : after 5s');
    expect(text).toContain('s_poked --> s_expired : after 1h');
    expect([delayLabel(1500), delayLabel(90_000), delayLabel(86_400_000 * 7), delayLabel('3000'), delayLabel('slow')]).toEqual([
      '1500ms',
      '90s',
      '7d',
      '3s',
      'slow',
    ]);
  });

  test('history states, eventless transitions, compound guards, ids and labels that need escaping', () => {
    const machine = createMachine({
      id: 'h',
      initial: 'edit',
      states: {
        edit: {
          initial: 'a',
          states: { a: { on: { next: 'b-2' } }, 'b-2': {}, hist: { type: 'history', history: 'deep' } },
          on: { 'pause: now': 'paused' },
        },
        paused: { always: [{ guard: 'ready', target: 'edit.hist' }], on: { resume: 'edit.hist' } },
        end: { type: 'final' },
      },
    });
    const text = machineToMermaid(machine);
    expect(text).toContain('state "H*" as s_edit__hist');
    expect(text).toContain('state "b-2" as s_edit__b_2d_2');
    expect(text).toContain('s_edit__a --> s_edit__b_2d_2 : next');
    expect(text).toContain('s_edit --> s_paused : pause#58; now');
    expect(text).toContain('s_paused --> s_edit__hist : always [ready]');
    expect(text).toContain('s_paused --> s_edit__hist : resume');
    // "end" is a Mermaid keyword; the prefixed id is not.
    expect(text).toContain('state "end" as s_end');
    expect(label('a "b" {c}; #d')).toBe('a #34;b#34; #123;c#125;#59; #35;d');
  });

  test('every bundled machine exports with each state declared once and every edge between declared states', () => {
    for (const { machine } of bundledMachines) {
      const text = machineToMermaid(machine);
      const declared = [...text.matchAll(/state "[^"]*" as (\S+)/g)].map((m) => m[1]!);
      expect(new Set(declared).size, machine.id).toBe(declared.length);
      for (const [, from, to] of text.matchAll(/^\s*(s_\S+) --> (s_\S+) :/gm)) {
        expect(declared, `${machine.id}: ${from}`).toContain(from);
        expect(declared, `${machine.id}: ${to}`).toContain(to);
      }
      const braces = [...text].reduce((n, ch) => n + (ch === '{' ? 1 : ch === '}' ? -1 : 0), 0);
      expect(braces, machine.id).toBe(0);
    }
  });
});

describe('mermaid ids', () => {
  test('are injective over paths, even for names with underscores and separators', () => {
    const paths = [['a_b'], ['a', 'b'], ['a__b'], ['a', '_b'], ['a_', 'b'], ['a.b'], ['a-b'], ['é']];
    const ids = paths.map(mermaidStateId);
    expect(new Set(ids).size).toBe(paths.length);
    for (const id of ids) expect(id).toMatch(/^s_[A-Za-z0-9_]+$/);
  });

  test('active leaf paths of a state value', () => {
    expect(activeLeafPaths('idle')).toEqual([['idle']]);
    expect(activeLeafPaths({ review: { legal: 'pending', finance: 'second' } })).toEqual([
      ['review', 'legal', 'pending'],
      ['review', 'finance', 'second'],
    ]);
    expect(activeLeafPaths({ running: {} })).toEqual([['running']]);
    expect(activeLeafPaths(null)).toEqual([]);
  });
});
