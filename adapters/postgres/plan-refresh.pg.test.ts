import { describe, expect, onTestFinished, test } from 'vitest';
import { Runtime } from '../../runtime/index.ts';
import { counter } from '../../test/fixtures/machines.ts';
import { openStoreDatabase } from '../../test/support/store-database.ts';
import { openDatabase } from './orm.ts';
import { PgInstanceStore } from './pg-instance-store.ts';
import { PlanRefresh } from './plan-refresh.ts';
import { PgNotifier } from './pg-notifier.ts';
import { eventually } from '../../test/support/poll.ts';

describe('plan refresh', () => {
  test('a connection is stale once per threshold crossed, and never on first sight', () => {
    const plans = new PlanRefresh([10, 100]);
    const [a, b] = [{}, {}];
    expect(plans.stale(a)).toBe(false);
    plans.created(9);
    expect(plans.stale(a)).toBe(false);
    plans.created(1);
    expect(plans.stale(b)).toBe(false); // no plans older than the threshold: first seen after it
    expect([plans.stale(a), plans.stale(a)]).toEqual([true, false]);
    plans.created(500); // crosses 100 (two thresholds at once would still be one re-plan)
    expect([plans.stale(a), plans.stale(b), plans.stale(b)]).toEqual([true, true, false]);
    plans.created(10_000);
    expect(plans.stale(a)).toBe(false);
  });
});

/**
 * A store on one connection whose commit's generic plan was made on a one-row sk_instance, which then grew by 20,000
 * rows: `expectFullRead` EXPLAINs that cached plan on the same connection.
 */
async function staleStore() {
  // One connection: the statements, their plans and the EXPLAINs below share it.
  const opened = await openStoreDatabase(1, { planRefreshAt: [300], namedStatements: true });
  onTestFinished(() => opened.close());
  const { db, orm, raw, store } = opened;
  const runtime = new Runtime({ store, workerId: 'plans', pollIntervalMs: 0 });
  onTestFinished(() => runtime.close());
  const q = async (sql: string, params: unknown[] = []) => (await orm.em.getConnection().execute(sql, params, 'all')) as any[];
  // Autovacuum's analyze would re-plan too: this is about the store's own refresh.
  for (const t of ['sk_instance', 'sk_event', 'sk_effect']) await q(`alter table ${t} set (autovacuum_enabled = false)`);
  runtime.register(counter, { version: '1' });

  // The last commit statement sent, to EXPLAIN its cached plan on the same connection.
  const spied = store as unknown as { prepared: (s: { name: string; sql: string; params: unknown[] }) => Promise<unknown> };
  const prepared = spied.prepared.bind(store);
  let last: { name: string; params: unknown[] } | undefined;
  spied.prepared = (s) => ((last = s.name.startsWith('sk_commit') ? s : last), prepared(s));
  const literal = (v: unknown) => (v == null ? 'null' : `'${String(v).replaceAll("'", "''")}'`);
  const plan = async () => (await q(`explain execute ${last!.name}(${last!.params.map(literal).join(', ')})`)).map((r) => r['QUERY PLAN']);
  // Whether the plan reads sk_instance in full; a failed expectation shows the plan.
  const expectFullRead = async (full: boolean) => {
    const lines: string[] = await plan();
    expect(
      lines.some((line) => line.includes('Seq Scan on sk_instance')),
      lines.join('\n'),
    ).toBe(full);
    return lines.join('\n');
  };

  const { id } = await runtime.start({ machine: 'counter' });
  // Past the five custom plans: the generic one is made now, on a table of one row.
  for (let i = 0; i < 8; i++) await runtime.send(id, { type: 'add', item: `x${i}` });
  await expectFullRead(true);
  // The rows go in through another connection (`raw`). A backend busy with one long statement does not read the
  // server's invalidation queue; if other sessions' DDL (other test files' migrations) overflows it meanwhile, the
  // backend drops every cached plan, and the plan below would be made again without the store's refresh. An idle
  // one catches up when signalled and keeps its plans.
  await raw.query(
    `insert into sk_instance select (jsonb_populate_record(null::sk_instance, to_jsonb(i) || jsonb_build_object('id', 'bulk-' || g,
       'idempotency_key', null))).* from sk_instance i, generate_series(1, 20000) g where i.id = $1`,
    [id],
  );
  await runtime.send(id, { type: 'add', item: 'y' });
  await expectFullRead(true); // the cached plan does not know the table grew
  return { db, store, runtime, id, expectFullRead };
}

/**
 * The commit's generic plan, made while sk_instance is near empty, reads the table in full; once the store has
 * created its threshold of instances, or heard of that many created by other processes, the connection's plans are
 * made again, for the table's size. Each test sets up its own database, so that a retry starts from an empty store.
 */
describe('plan refresh on PostgreSQL', () => {
  test('a plan made on a near-empty sk_instance is made again after the threshold', { timeout: 120_000 }, async () => {
    const { runtime, id, expectFullRead } = await staleStore();
    for (let i = 0; i < 300; i++) await runtime.start({ machine: 'counter' });
    for (let i = 0; i < 8; i++) await runtime.send(id, { type: 'add', item: `z${i}` });
    expect(await expectFullRead(false)).toMatch(/Index Scan|Bitmap Index Scan/);
  });

  test('a store that creates none re-plans once another process has created as many (heard from its announcements)', {
    timeout: 120_000,
  }, async () => {
    const { db, store, runtime, id, expectFullRead } = await staleStore();
    const notifier = new PgNotifier({ url: db.url, origin: store.origin });
    await notifier.start();
    onTestFinished(() => notifier.close());
    store.followGrowth(notifier);
    let heard = 0;
    notifier.subscribe((w) => void (w.kind === 'instance' && w.version === 2 && heard++));

    // Another process creates 300 instances; each one's first commit is announced.
    const otherStore = new PgInstanceStore(await openDatabase({ url: db.url, poolSize: 2 }));
    const other = new Runtime({ store: otherStore, workerId: 'other', pollIntervalMs: 0 });
    onTestFinished(async () => {
      await other.close();
      await otherStore.close();
    });
    other.register(counter, { version: '1' });
    for (let i = 0; i < 300; i++) {
      const made = await other.start({ machine: 'counter' });
      await other.send(made.id, { type: 'add', item: 'a' });
    }
    await eventually(async () => heard >= 300, 'the 300 announcements');
    for (let i = 0; i < 8; i++) await runtime.send(id, { type: 'add', item: `z${i}` });
    expect(await expectFullRead(false)).toMatch(/Index Scan|Bitmap Index Scan/);
  });
});
