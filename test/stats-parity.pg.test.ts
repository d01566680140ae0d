import { afterAll, expect, test } from 'vitest';
import { openDatabase } from '../adapters/postgres/orm.ts';
import { PgInstanceStore } from '../adapters/postgres/pg-instance-store.ts';
import type { InstanceStore, StoreStats } from '../runtime/ports.ts';
import { statsJob, statsJobSteps } from './fixtures/stats-job.ts';
import { createSimulation, MemoryStore } from '../runtime/testing/index.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';

/**
 * Simulation must count as Postgres does: one scripted history (steps that succeed, succeed on a retry or
 * fail for good; outcomes as strings and not; a stop; an instance in error brought back by a retry; a
 * retention purge) run on the memory store and on Postgres gives the same stats, max run time included.
 */

const DAY = 86_400_000;
/** While set, `boom` throws in a guard: the instance goes to status error until an operator retry. */
let armed = true;

const job = statsJob({ maxAttempts: 3, delayMs: 1000, armed: () => armed });
const steps = statsJobSteps;

/** The history, on one store; answers the stats of both tenants at three points. */
async function script(store: InstanceStore, fold: () => Promise<unknown>): Promise<StoreStats[]> {
  armed = true;
  const sim = await createSimulation({
    store,
    steps,
    machines: [{ machine: job, options: { version: '1' } }],
    retention: { default: { days: 1, mode: 'delete' } },
  });
  const { runtime } = sim;
  const start = async (mode: 'ok' | 'flaky' | 'bad', tenant = 'acme') =>
    (await runtime.start({ machine: 'job', input: { mode }, tenant })).id;
  const stats = async () => [await runtime.stats({ tenant: 'acme' }), await runtime.stats({ tenant: 'other' })];
  const [j1, j2, j3, j4] = [await start('ok'), await start('flaky'), await start('bad'), await start('ok')];
  const j5 = await start('ok', 'other');
  await sim.advance(10_000);
  await runtime.send(j1, { type: 'finish', outcome: 'completed' });
  await sim.advance(50_000);
  await runtime.send(j4, { type: 'finish', outcome: 7 });
  await runtime.stopInstance(j5, 'stopped', { tenant: 'other' });
  await runtime.send(j2, { type: 'boom' }).catch(() => undefined);
  const early = await stats();
  await fold();
  await sim.advance(3_600_000);
  armed = false;
  await runtime.retry(j2);
  await sim.advance(2 * DAY);
  expect((await runtime.retention.run()).totals.instances).toBe(5);
  // Short runs after the purge: the longest run seen stays the max.
  const j6 = await start('ok');
  await sim.advance(2_000);
  await runtime.send(j6, { type: 'finish', outcome: 'completed' });
  const late = await stats();
  await fold();
  const folded = await stats();
  expect(folded).toEqual(late);
  await runtime.close();
  void j3;
  return [...early, ...late];
}

let db: TestDatabase | undefined;
afterAll(async () => db?.drop());

test('the memory store and Postgres give the same stats for the same history', async () => {
  const memory = await script(new MemoryStore(), async () => undefined);
  db = await createTestDatabase();
  const pgStore = new PgInstanceStore(await openDatabase({ url: db.url, poolSize: 4 }));
  try {
    const postgres = await script(pgStore, () => pgStore.foldStats());
    expect(postgres).toEqual(memory);
  } finally {
    await pgStore.close();
  }
  const [early, , late] = memory;
  // The script did what it says: a failed step, retries, an instance in error, then after the purge one short run.
  expect(early!.instances).toContainEqual({ machineId: 'job', status: 'error', count: 1 });
  expect(early!.steps).toEqual([{ name: 'work', total: 4, failed: 1, retries: 3 }]);
  expect(early!.outcomes).toEqual([
    { machineId: 'job', outcome: 'completed', count: 1 },
    { machineId: 'job', outcome: 'failed', count: 1 },
  ]);
  expect(late).toEqual({
    instances: [{ machineId: 'job', status: 'done', count: 1 }],
    steps: [{ name: 'work', total: 1, failed: 0, retries: 0 }],
    outcomes: [{ machineId: 'job', outcome: 'completed', count: 1 }],
    // j2, from its start to the retry an hour after it went to error, purged since.
    durations: [{ machineId: 'job', finished: 1, meanMs: 2_000, maxMs: 3_660_000 }],
  });
}, 60_000);
