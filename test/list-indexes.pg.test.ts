import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type pg from 'pg';
import { instanceConditions } from '../adapters/postgres/instance-filter-sql.ts';
import type { PgInstanceStore } from '../adapters/postgres/pg-instance-store.ts';
import type { InstanceStatus } from '../runtime/ports.ts';
import { openStoreDatabase, type StoreDatabase } from './support/store-database.ts';

// Enough rows that a full read costs the planner more than the index: 30k, 2% active, 1% error, two machines.
const ROWS = 30_000;

let opened: StoreDatabase;
let raw: pg.Client;
let store: PgInstanceStore;

beforeAll(async () => {
  opened = await openStoreDatabase(2);
  ({ raw, store } = opened);
  await raw.query(
    `insert into sk_instance (id, tenant, machine_id, machine_version, status, state_value, tags, snapshot, version,
       created_at, updated_at)
     select 'i-' || g, 'acme', case when g % 2 = 0 then 'order' else 'refund' end, '1',
       case when g % 50 = 0 then 'active' when g % 100 = 1 then 'error' else 'done' end,
       '"waiting"'::jsonb, '[]'::jsonb, '{}'::jsonb, 2,
       timestamptz '2026-11-01' + g * interval '1 second', timestamptz '2026-11-01' + g * interval '1 second'
     from generate_series(1, $1::int) g`,
    [ROWS],
  );
  await raw.query('analyze sk_instance');
}, 60_000);
afterAll(async () => {
  await opened?.close();
});

/** The plan of the list query the store runs for this filter (the store's own conditions, newest first, one page). */
async function listPlan(filter: { machineId?: string; status?: InstanceStatus[] }): Promise<string> {
  const { where, params } = instanceConditions('acme', filter);
  let n = 0;
  const sql = `select * from sk_instance where ${where.join(' and ')} order by created_at desc, id desc limit ${50}`;
  const { rows } = await raw.query(`explain ${sql.replace(/\?/g, () => `$${++n}`)}`, params);
  return rows.map((r) => r['QUERY PLAN']).join('\n');
}

describe('filtered instance list on Postgres', () => {
  test('a status filter reads the (tenant, status, created_at, id) index, not the table', async () => {
    const plan = await listPlan({ status: ['active'] });
    expect(plan).toContain('sk_instance_tenant_status_created_index');
    expect(plan).not.toContain('Seq Scan');
  }, 60_000);

  test('a machine filter without a status reads the (tenant, machine_id, created_at, id) index', async () => {
    const plan = await listPlan({ machineId: 'refund' });
    expect(plan).toContain('sk_instance_tenant_machine_created_index');
    expect(plan).not.toContain('Seq Scan');
  }, 60_000);

  // Several statuses: the planner picks between the status index and walking the newest-first index with a filter,
  // by how many rows match; either way it reads an index, never the whole table.
  test('several statuses are read through an index, not the whole table', async () => {
    const plan = await listPlan({ status: ['active', 'error'] });
    expect(plan).toMatch(/Index Scan/);
    expect(plan).not.toContain('Seq Scan');
  }, 60_000);

  test('the filtered list returns only the asked statuses, newest first', async () => {
    const one = await store.list({ tenant: 'acme', status: ['error'], limit: 5 });
    expect(one.map((r) => r.id)).toEqual(['i-29901', 'i-29801', 'i-29701', 'i-29601', 'i-29501']);
    const two = await store.list({ tenant: 'acme', status: ['active', 'error'], machineId: 'refund', limit: 3 });
    expect(two.map((r) => [r.id, r.status])).toEqual([
      ['i-29901', 'error'],
      ['i-29801', 'error'],
      ['i-29701', 'error'],
    ]);
    const mixed = await store.list({ tenant: 'acme', status: ['active', 'error'], limit: 3 });
    expect(mixed.map((r) => [r.id, r.status])).toEqual([
      ['i-30000', 'active'],
      ['i-29950', 'active'],
      ['i-29901', 'error'],
    ]);
  }, 60_000);
});
