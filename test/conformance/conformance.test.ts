import { describe, expect, test } from 'vitest';
import type { MemoryStore } from '../../runtime/memory-store.ts';
import { MemoryStore as Store } from '../../runtime/memory-store.ts';
import { firstDifference, graphWalks, observeReference, observeRuntime, randomWalks, type RuntimeTarget } from './driver.ts';
import { identicalCases } from './cases/index.ts';
import { PENDING } from './pending.ts';

/**
 * Differential conformance: each feature machine runs through plain
 * `createActor` (XState's simulated clock) and through the runtime in
 * simulation mode, on seeded random walks and `xstate/graph` shortest paths;
 * value, context, status, output, error, tags and emitted events must agree
 * after every move. A failure prints the walk and its seed.
 */

const SEED = Number(process.env.CONFORMANCE_SEED ?? 20261202);
const simulation: RuntimeTarget = {
  store: async () => new Store(),
  emitted: async (store, id) => (store as MemoryStore).outbox.filter((o) => o.instanceId === id).map((o) => o.payload),
};

describe('XState conformance in simulation mode', () => {
  for (const [i, c] of identicalCases.entries())
    (PENDING[c.name] ? test.fails : test)(c.name, async () => {
      const walks = [...(c.walks ?? []), ...graphWalks(c, 6), ...randomWalks(c, SEED + i, 6, 7)];
      for (const walk of walks) {
        const expected = await observeReference(c, walk);
        const actual = await observeRuntime(c, walk, simulation);
        const diff = firstDifference(expected, actual, walk);
        expect(diff, `seed ${SEED + i}`).toBeUndefined();
      }
    });
});
