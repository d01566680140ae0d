import { assign, createMachine, type AnyStateMachine } from 'xstate';
import { describe, expect, test } from 'vitest';
import { MemoryStore } from '../../runtime/memory-store.ts';
import type { IdenticalCase } from './case-types.ts';
import { identicalCases } from './cases/index.ts';
import { firstDifference, graphWalks, observeReference, observeRuntime, randomWalks, type RuntimeTarget } from './driver.ts';

/**
 * The driver must notice a difference: each machine is altered on the
 * runtime side only (a transition target, an assignment, a delay, a tag) and
 * the walks of the conformance suite must report it.
 */

const byName = (name: string) => identicalCases.find((c) => c.name === name)!;
const remake = (m: AnyStateMachine, config: Record<string, unknown>) =>
  createMachine({ ...(m.config as object), ...config } as never, m.implementations as never);

const mutations: { case: string; what: string; alter: (m: AnyStateMachine) => AnyStateMachine }[] = [
  {
    case: 'state.compound',
    what: 'a transition target',
    alter: (m) => remake(m, { states: { ...m.config.states, off: { on: { power: 'on.playing' } } } }),
  },
  {
    case: 'action.assign',
    what: 'an assignment',
    alter: (m) => remake(m, { on: { ...m.config.on, inc: { actions: assign({ count: ({ context }: any) => context.count + 2 }) } } }),
  },
  {
    case: 'delay.after',
    what: 'a delay',
    alter: (m) => remake(m, { states: { ...m.config.states, green: { after: { 1001: 'yellow' }, on: { skip: 'yellow' } } } }),
  },
  {
    case: 'state.tags',
    what: 'a tag',
    alter: (m) => remake(m, { states: { ...m.config.states, idle: { tags: ['Ready'], on: { fetch: 'loading' } } } }),
  },
  { case: 'action.emit', what: 'an emitted event', alter: (m) => remake(m, { on: {} }) },
];

async function anyDifference(c: IdenticalCase, alter: RuntimeTarget['alter']): Promise<string | undefined> {
  const target: RuntimeTarget = {
    store: async () => new MemoryStore(),
    emitted: async (s, id) => (s as MemoryStore).outbox.filter((o) => o.instanceId === id).map((o) => o.payload),
    alter,
  };
  for (const walk of [...graphWalks(c, 6), ...randomWalks(c, 7, 6, 7)]) {
    const diff = firstDifference(await observeReference(c, walk), await observeRuntime(c, walk, target), walk);
    if (diff) return diff;
  }
  return undefined;
}

describe('the conformance driver flags a machine altered on the runtime side', () => {
  for (const m of mutations) {
    test(`${m.case}: ${m.what}`, async () => {
      const c = byName(m.case);
      expect(await anyDifference(c, undefined)).toBeUndefined();
      expect(await anyDifference(c, m.alter)).toBeDefined();
    });
  }
});
