import { Client } from 'pg';
import { afterAll, expect, test } from 'vitest';
import { openDatabase } from '../adapters/postgres/orm.ts';
import { PgInstanceStore } from '../adapters/postgres/pg-instance-store.ts';
import type { InstanceStore } from '../runtime/ports.ts';
import { createSimulation } from '../runtime/testing/index.ts';
import { retentionSuite } from './retention-suite.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { quick } from './schedule-suite.ts';

const opened: { db: TestDatabase; store: PgInstanceStore }[] = [];
afterAll(async () => {
  for (const { db, store } of opened) {
    await store.close();
    await db.drop();
  }
});
const urls = new WeakMap<InstanceStore, string>();
async function makeStore(): Promise<PgInstanceStore> {
  const db = await createTestDatabase();
  const store = new PgInstanceStore(await openDatabase({ url: db.url, poolSize: 4 }));
  opened.push({ db, store });
  urls.set(store, db.url);
  return store;
}
async function sql<T = Record<string, unknown>>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(text, params)).rows as T[];
  } finally {
    await c.end();
  }
}

retentionSuite('Postgres', makeStore, async (s) => Number((await sql(urls.get(s)!, 'select count(*) from sk_archive_instance'))[0]!.count));

test('archive keeps every row of an instance whole, history with its hashes; nothing of it is left in the live tables', async () => {
  const store = await makeStore();
  const url = urls.get(store)!;
  const sim = await createSimulation({
    store,
    machines: [{ machine: quick, options: { version: '1', retention: { days: 1, mode: 'archive' } } }],
  });
  const { id } = await sim.runtime.start({ machine: 'quick' });
  await sim.advance(2 * 86_400_000);
  const r = await sim.runtime.retention.run();
  expect(r.totals).toMatchObject({ instances: 1, events: 1 });
  const live = await sql<{ n: number }>(
    url,
    `select (select count(*) from sk_instance where id = $1) + (select count(*) from sk_event where instance_id = $1)
       + (select count(*) from sk_effect where instance_id = $1) + (select count(*) from sk_outbox where instance_id = $1) as n`,
    [id],
  );
  expect(Number(live[0]!.n)).toBe(0);
  const [inst] = await sql<{ status: string; row: { id: string } }>(url, `select status, row from sk_archive_instance where id = $1`, [id]);
  expect(inst).toMatchObject({ status: 'done', row: { id } });
  const records = await sql<{ kind: string; row: { type: string; hash: string } }>(
    url,
    `select kind, row from sk_archive_record where instance_id = $1`,
    [id],
  );
  expect(records.map((x) => [x.kind, x.row.type])).toEqual([['event', 'xstate.init']]);
  expect(records[0]!.row.hash).toMatch(/^\\x[0-9a-f]{64}$/);
  await sim.runtime.close();
}, 60_000);
