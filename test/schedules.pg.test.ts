import { Client } from 'pg';
import { afterAll, expect, test } from 'vitest';
import { openDatabase } from '../adapters/postgres/orm.ts';
import { PgInstanceStore } from '../adapters/postgres/pg-instance-store.ts';
import { Runtime, SimulatedClock } from '../runtime/index.ts';
import type { ScheduleDefinition } from '../runtime/schedule-spec.ts';
import { quick, scheduleSuite } from './schedule-suite.ts';
import { createTestDatabase } from './support/database.ts';
import { pgStoreFactory } from './support/pg-store.ts';

scheduleSuite('Postgres', pgStoreFactory());

const db = await createTestDatabase();
afterAll(() => db.drop());

const T0 = Date.parse('2030-01-01T00:00:00Z');
const MIN = 60_000;

/** A runtime on a pool of its own, as another process on the same database would have, on the shared simulated clock. */
async function openRuntime(clock: SimulatedClock, workerId: string, schedule: ScheduleDefinition) {
  const store = new PgInstanceStore(await openDatabase({ url: db.url, poolSize: 4 }));
  const runtime = new Runtime({ store, clock, workerId, pollIntervalMs: 0, timerHorizonMs: Number.POSITIVE_INFINITY });
  runtime.register(quick, { version: '1' });
  // Every process declares the same schedules at start-up, as a server does from its code and configuration.
  await runtime.schedules.define(schedule);
  await runtime.resume();
  return { runtime, close: async () => (await runtime.close(), await store.close()) };
}

async function sql<T = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> {
  const c = new Client({ connectionString: db.url });
  await c.connect();
  try {
    return (await c.query(text, params)).rows as T[];
  } finally {
    await c.end();
  }
}

test('two runtimes on one database: every tick starts exactly one instance, also when a tick is run again', async () => {
  const clock = new SimulatedClock(T0);
  const schedule: ScheduleDefinition = { id: 'five', machine: 'quick', cron: '*/5 * * * *', overlap: 'allow', catchUp: 'all' };
  const a = await openRuntime(clock, 'process-a', schedule);
  const b = await openRuntime(clock, 'process-b', schedule);
  const settle = async () => {
    for (let i = 0; i < 3; i++) {
      await Promise.all([a.runtime.settled(), b.runtime.settled()]);
      await new Promise((r) => setImmediate(r));
    }
  };
  // Both processes wake at every tick and race for it.
  await clock.advance(60 * MIN, settle);
  const keys = async () =>
    (await sql<{ key: string; n: number }>(`select idempotency_key as key, count(*)::int as n from sk_instance group by 1 order by 1`)).map(
      (r) => [r.key, r.n],
    );
  const expected = Array.from({ length: 12 }, (_, i) => [`schedule:five:${new Date(T0 + (i + 1) * 5 * MIN).toISOString()}`, 1]);
  expect(await keys()).toEqual(expected);

  // A process started the 00:30 to 01:00 ticks but stopped before recording them: the row still says 00:30, its lease lapsed.
  await sql(`update sk_schedule set next_tick = $1, lease_owner = null, lease_until = null where id = 'five'`, [
    new Date(T0 + 30 * MIN).toISOString(),
  ]);
  await clock.advance(5 * MIN, settle);
  // Run again, the seven ticks find their instances under their keys; only 01:05 is new.
  expect(await keys()).toEqual([...expected, [`schedule:five:${new Date(T0 + 65 * MIN).toISOString()}`, 1]]);
  const [row] = await sql<{ next_tick: Date; lease_owner: string | null }>(`select next_tick, lease_owner from sk_schedule`);
  expect(row).toEqual({ next_tick: new Date(T0 + 70 * MIN), lease_owner: null });
  await a.close();
  await b.close();
}, 60_000);
