import { afterAll, beforeAll, expect, test } from 'vitest';
import { setup } from 'xstate';
import { Runtime } from '../runtime/index.ts';
import { counter } from './fixtures/machines.ts';
import { statsJob, statsJobSteps } from './fixtures/stats-job.ts';
import { eventually } from './support/poll.ts';
import { recount } from './support/stats-recount.ts';
import { openStoreDatabase, type StoreDatabase } from './support/store-database.ts';

/**
 * The create and commit statements count the instances and step rows they insert themselves (migration
 * 20261210-stats-in-statements), aggregated per statement; the insert triggers count only the other writers' rows.
 * Concurrent workflows (batched statements, several instances each) of two tenants, then a full recount: an insert
 * counted by neither or by both would show.
 */

let opened: StoreDatabase;
let runtime: Runtime;

const job = statsJob({ maxAttempts: 2, delayMs: 10, armed: () => true });

/** Finished by its creation: the create statement counts a finished instance, with its outcome and a run of 0 ms. */
const instant = setup({}).createMachine({
  id: 'instant',
  initial: 'over',
  states: { over: { type: 'final' } },
  output: { outcome: 'instant' },
});

beforeAll(async () => {
  opened = await openStoreDatabase(4);
  runtime = new Runtime({ store: opened.store, workerId: 'stats', pollIntervalMs: 100 });
  runtime.registerSteps(statsJobSteps);
  for (const machine of [job, instant, counter]) runtime.register(machine, { version: '1' });
}, 60_000);
afterAll(async () => {
  await runtime?.close();
  await opened?.close();
});

test('instances and steps inserted by the statements are counted once, aggregated; other writers by the triggers', async () => {
  const { raw, store } = opened;
  const tenants = ['acme', 'other'];
  const modes = ['ok', 'flaky', 'bad'] as const;
  const started = await Promise.all([
    ...Array.from({ length: 48 }, (_, i) => runtime.start({ machine: 'job', input: { mode: modes[i % 3]! }, tenant: tenants[i % 2] })),
    ...Array.from({ length: 12 }, (_, i) => runtime.start({ machine: 'instant', tenant: tenants[i % 2] })),
    ...Array.from({ length: 6 }, (_, i) => runtime.start({ machine: 'counter', tenant: tenants[i % 2] })),
  ]);
  await Promise.all(started.slice(60).map((s) => runtime.send(s.id, { type: 'add', item: 'x' })));
  const jobs = async (where: string) =>
    Number((await raw.query(`select count(*) from sk_instance where machine_id = 'job' and ${where}`)).rows[0].count);
  await eventually(async () => (await jobs(`state_value = '"working"'`)) === 0, 'every job past its step');
  // ok and flaky jobs wait for their outcome; bad ones ended with `failed`.
  await Promise.all(
    started
      .slice(0, 48)
      .map((s, i) => modes[i % 3] !== 'bad' && runtime.send(s.id, { type: 'finish', outcome: 'paid' }, { tenant: tenants[i % 2] })),
  );
  expect(await jobs(`status = 'active'`)).toBe(0);

  // Every row the runtime inserted was counted by its statement, none by a trigger.
  const uncounted = async (table: string) =>
    Number((await raw.query(`select count(*) from ${table} where not counted_on_insert`)).rows[0].count);
  expect([await uncounted('sk_instance'), await uncounted('sk_effect')]).toEqual([0, 0]);
  for (const tenant of tenants) expect(await store.stats(tenant), tenant).toEqual(await recount(raw, tenant));
  const acme = await store.stats('acme');
  expect(acme.outcomes).toEqual([
    { machineId: 'instant', outcome: 'instant', count: 6 },
    { machineId: 'job', outcome: 'failed', count: 8 },
    { machineId: 'job', outcome: 'paid', count: 16 },
  ]);
  // acme has 8 jobs of each mode: ok and flaky succeed (flaky on its retry), bad fails both attempts.
  expect(acme.steps).toEqual([{ name: 'work', total: 24, failed: 8, retries: 16 }]);
  // Aggregated: a statement creating several instances of one key wrote one delta for them.
  const deltas = Number(
    (await raw.query(`select count(*) from sk_stats_delta where kind = 'instance' and status = 'active' and n > 0`)).rows[0].count,
  );
  expect(deltas).toBeLessThan(48 + 6);

  // A writer that does not count (a hand-written insert, a process of an older version) is counted by the triggers.
  await raw.query(
    `insert into sk_instance (id, tenant, machine_id, machine_version, status, state_value, tags, snapshot, output, created_at, updated_at)
     values ('by-hand', 'acme', 'job', '1', 'done', '"over"', '[]', '{}', '{"outcome": "paid"}', now() - interval '2 s', now())`,
  );
  await raw.query(
    `insert into sk_effect (id, instance_id, kind, name, status, attempts, created_at, updated_at)
     values ('by-hand:work', 'by-hand', 'step', 'work', 'failed', 3, now(), now())`,
  );
  expect(await store.stats('acme')).toEqual(await recount(raw, 'acme'));
  expect(await store.foldStats()).toBeGreaterThan(0);
  for (const tenant of tenants) expect(await store.stats(tenant), `${tenant}, folded`).toEqual(await recount(raw, tenant));
}, 60_000);
