import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type pg from 'pg';
import type { PgInstanceStore } from '../adapters/postgres/pg-instance-store.ts';
import { openStoreDatabase, type StoreDatabase } from './support/store-database.ts';

let opened: StoreDatabase;
let raw: pg.Client;
let store: PgInstanceStore;

/** One instance row: machine, status, output and how long it ran (ms from created_at to updated_at). */
type Row = [id: string, tenant: string, machine: string, status: string, output: unknown, ms: number];
const rows: Row[] = [
  ['o1', 'acme', 'order', 'done', { outcome: 'completed' }, 1000],
  ['o2', 'acme', 'order', 'done', { outcome: 'completed' }, 2000],
  ['o3', 'acme', 'order', 'done', { outcome: 'refunded' }, 3000],
  ['o4', 'acme', 'order', 'error', null, 6000],
  ['o5', 'acme', 'order', 'active', null, 100_000],
  ['o6', 'acme', 'order', 'active', { outcome: 'not yet' }, 100_000],
  ['r1', 'acme', 'refund', 'stopped', { outcome: 5 }, 500],
  ['r2', 'acme', 'refund', 'done', { outcome: 'refused' }, 1500],
  ['x1', 'other', 'order', 'done', { outcome: 'completed' }, 9000],
];

beforeAll(async () => {
  opened = await openStoreDatabase();
  ({ raw, store } = opened);
  for (const [id, tenant, machine, status, output, ms] of rows) {
    await raw.query(
      `insert into sk_instance (id, tenant, machine_id, machine_version, status, state_value, tags, snapshot, output,
         created_at, updated_at)
       values ($1, $2, $3, '1', $4, '"s"', '[]', '{}', $5::jsonb, timestamptz '2026-12-01',
         timestamptz '2026-12-01' + $6 * interval '1 ms')`,
      [id, tenant, machine, status, output === null ? null : JSON.stringify(output), ms],
    );
  }
  // Step rows: by target when there is one, else by name; attempts beyond the first are retries.
  const effects: [string, string, string | null, string, number][] = [
    ['o1', 'a', 'charge', 'done', 1],
    ['o2', 'a', 'charge', 'failed', 3],
    ['o3', 'b', null, 'done', 2],
    ['x1', 'a', 'charge', 'failed', 5],
  ];
  for (const [i, [instance, name, target, status, attempts]] of effects.entries()) {
    await raw.query(
      `insert into sk_effect (id, instance_id, kind, name, target, status, attempts, created_at, updated_at)
       values ($1, $2, 'step', $3, $4, $5, $6, now(), now())`,
      [`e${i}`, instance, name, target, status, attempts],
    );
  }
  await raw.query(
    `insert into sk_effect (id, instance_id, kind, name, status, attempts, created_at, updated_at)
     values ('t1', 'o5', 'timer', 'wait', 'pending', 0, now(), now())`,
  );
}, 60_000);
afterAll(async () => {
  await opened?.close();
});

describe('stats on Postgres', () => {
  test('counts, steps, outcomes and durations of one tenant', async () => {
    const stats = await store.stats('acme');
    expect(stats.instances).toEqual([
      { machineId: 'order', status: 'active', count: 2 },
      { machineId: 'order', status: 'done', count: 3 },
      { machineId: 'order', status: 'error', count: 1 },
      { machineId: 'refund', status: 'done', count: 1 },
      { machineId: 'refund', status: 'stopped', count: 1 },
    ]);
    expect(stats.steps).toEqual([
      { name: 'b', total: 1, failed: 0, retries: 1 },
      { name: 'charge', total: 2, failed: 1, retries: 2 },
    ]);
    // Only finished instances with a string outcome; the active one's output does not count yet.
    expect(stats.outcomes).toEqual([
      { machineId: 'order', outcome: 'completed', count: 2 },
      { machineId: 'order', outcome: 'refunded', count: 1 },
      { machineId: 'refund', outcome: 'refused', count: 1 },
    ]);
    // Every finished instance, whatever its output: order 1000, 2000, 3000, 6000; refund 500, 1500.
    expect(stats.durations).toEqual([
      { machineId: 'order', finished: 4, meanMs: 3000, maxMs: 6000 },
      { machineId: 'refund', finished: 2, meanMs: 1000, maxMs: 1500 },
    ]);
  }, 60_000);

  test('a tenant without instances has empty stats', async () => {
    expect(await store.stats('nobody')).toEqual({ instances: [], steps: [], outcomes: [], durations: [] });
  }, 60_000);
});
