import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { PgInstanceStore } from '../../adapters/postgres/pg-instance-store.ts';
import type { InstanceStore } from '../../runtime/ports.ts';
import { pgStoreFactory } from '../support/pg-store.ts';
import { identicalCases } from './cases/index.ts';
import { firstDifference, graphWalks, observeReference, observeRuntime, randomWalks, type RuntimeTarget } from './driver.ts';
import { PENDING } from './pending.ts';
import { createPrng } from './prng.ts';

/**
 * The conformance walks on PostgreSQL, closing the runtime and opening a new
 * one on the same database before random moves: every feature machine must
 * agree with `createActor` across restarts (nothing kept in memory counts).
 */

const SEED = Number(process.env.CONFORMANCE_SEED ?? 20261202);
const makeStore = pgStoreFactory();
let store: PgInstanceStore;
beforeAll(async () => {
  store = await makeStore();
});
afterAll(() => undefined);

/** Emitted events as the outbox table holds them. */
async function outbox(s: InstanceStore, id: string): Promise<unknown[]> {
  const conn = (
    s as unknown as { orm: { em: { getConnection(): { execute(sql: string, p: unknown[], m: 'all'): Promise<{ payload: unknown }[]> } } } }
  ).orm.em.getConnection();
  return (await conn.execute('select payload from sk_outbox where instance_id = ? order by seq, id', [id], 'all')).map((r) => r.payload);
}

describe('XState conformance on PostgreSQL with restarts between events', () => {
  for (const [i, c] of identicalCases.entries()) {
    (PENDING[c.name] ? test.fails : test)(c.name, async () => {
      const rng = createPrng(SEED * 7 + i);
      // The case's own walks restart before every move; the others at random.
      const always: RuntimeTarget = { store: async () => store, emitted: outbox, restartBefore: () => true };
      const random: RuntimeTarget = { ...always, restartBefore: () => rng.next() < 0.4 };
      const walks = [
        ...(c.walks ?? []).map((w) => [w, always] as const),
        ...[...graphWalks(c, 2), ...randomWalks(c, SEED + i, 2, 6)].map((w) => [w, random] as const),
      ];
      for (const [walk, target] of walks) {
        const diff = firstDifference(await observeReference(c, walk), await observeRuntime(c, walk, target), walk);
        expect(diff, `seed ${SEED + i}`).toBeUndefined();
      }
    });
  }
});
