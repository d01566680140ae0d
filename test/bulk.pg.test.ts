import { setup } from 'xstate';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { MikroORM } from '@mikro-orm/postgresql';
import { openDatabase } from '../adapters/postgres/orm.ts';
import { PgInstanceStore } from '../adapters/postgres/pg-instance-store.ts';
import { createRuntime, type Runtime } from '../runtime/index.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { eventually } from './support/poll.ts';

/** An order waiting for payment; a cancel ends it. */
const order = setup({ types: { input: {} as { batch: string }, context: {} as { batch: string } } }).createMachine({
  id: 'idle-order',
  context: ({ input }) => ({ batch: input.batch }),
  initial: 'awaitingPayment',
  states: {
    awaitingPayment: { on: { 'order.paid': 'paid', 'workflow.cancel': 'cancelled' } },
    paid: { type: 'final' },
    cancelled: { type: 'final' },
  },
});

const machines = [{ machine: order, options: { version: '1' } }];
const tenant = 'acme';
const ACTIVE = 10_000;

let db: TestDatabase;
let orm: MikroORM;
let store: PgInstanceStore;
const runtimes: Runtime[] = [];

const newRuntime = async (workerId: string, bulkBatchSize: number) => {
  const runtime = await createRuntime({ store, machines, workerId, pollIntervalMs: 0, bulkBatchSize });
  runtimes.push(runtime);
  return runtime;
};

/** `n` copies of an instance and its first history row, written by two statements (a start each would take minutes here). */
async function clone(templateId: string, n: number): Promise<void> {
  const conn = orm.em.getConnection();
  await conn.execute(
    `with ids as (select gen_random_uuid()::text as id from generate_series(1, ?)),
     inst as (
       insert into sk_instance select (jsonb_populate_record(null::sk_instance, to_jsonb(t) || jsonb_build_object('id', ids.id))).*
       from sk_instance t cross join ids where t.id = ? returning id)
     insert into sk_event (instance_id, seq, type, payload, source, actor, state_value, handled, idempotency_key, created_at)
     select inst.id, 1, e.type, e.payload, e.source, e.actor, e.state_value, e.handled, null, e.created_at
     from inst cross join sk_event e where e.instance_id = ? and e.seq = 1`,
    [n, templateId, templateId],
    'run',
  );
}

const countWhere = async (sql: string, params: unknown[] = []) =>
  Number(
    (
      (await orm.em.getConnection().execute(`select count(*)::int as n from sk_instance where ${sql}`, params, 'all')) as { n: number }[]
    )[0]!.n,
  );

beforeAll(async () => {
  db = await createTestDatabase();
  orm = await openDatabase({ url: db.url, poolSize: 10 });
  store = new PgInstanceStore(orm);
}, 60_000);

afterAll(async () => {
  for (const r of runtimes) await r.close();
  await store.close();
  await db.drop();
}, 60_000);

describe('bulk cancel on Postgres', () => {
  const title =
    `a dry run counts ${ACTIVE + 25} matches; the job cancels ${ACTIVE} instances in batches, skips the finished, reports ` +
    'the paused with their code, and goes on from its cursor after the runtime is stopped mid-job';
  test(title, { timeout: 240_000 }, async () => {
    const first = await newRuntime('bulk-a', 200);
    const start = async (batch: string) => (await first.start({ machine: 'idle-order', input: { batch }, tenant })).id;
    // 10,000 waiting orders of batch b1, 20 finished ones (skipped), 5 paused ones (refused), 50 of batch b2 (not matched).
    await clone(await start('b1'), ACTIVE - 1);
    const finished = await start('b1');
    await first.send(finished, { type: 'order.paid' }, { tenant });
    await clone(finished, 19);
    const paused = await start('b1');
    await first.pauseInstance(paused, { tenant });
    await clone(paused, 4);
    await clone(await start('b2'), 49);

    const filter = { machineId: 'idle-order', context: { batch: 'b1' } };
    const preview = await first.bulk.preview({ action: 'cancel', tenant, filter });
    expect(preview.count).toBe(ACTIVE + 25);
    expect(preview.sample).toHaveLength(20);
    expect(await countWhere(`status = 'active'`)).toBe(ACTIVE + 5 + 50);

    const caller = { id: 'ops:ana' };
    const job = await first.bulk.start({ action: 'cancel', tenant, filter, caller, reason: 'catalogue withdrawn' });
    expect(job).toMatchObject({ status: 'running', total: ACTIVE + 25 });
    // Stop the runtime once a batch is on record: the batch in hand is finished and counted, the job given up.
    await eventually(async () => (await first.bulk.get(job.id, tenant)).done > 0, 'a first batch', 120_000);
    await first.close();
    const stopped = await first.bulk.get(job.id, tenant);
    const handled = stopped.done + stopped.skipped + stopped.failed;
    expect(stopped.status).toBe('running');
    expect(handled).toBeGreaterThan(0);
    expect(handled).toBeLessThan(ACTIVE + 25);
    expect(handled % 200).toBe(0);
    // Every instance its batches took is handled, no other: the job's counts are what the database shows.
    expect(await countWhere(`status = 'done' and state_value = '"cancelled"'`)).toBe(stopped.done);

    // A new runtime on the same database takes the job up after its cursor.
    const second = await newRuntime('bulk-b', 500);
    const report = await eventually(
      async () => {
        const j = await second.bulk.get(job.id, tenant);
        return j.status === 'completed' && j;
      },
      'the job to complete',
      200_000,
      250,
    );
    expect(report).toMatchObject({ done: ACTIVE, skipped: 20, failed: 5, total: ACTIVE + 25, actor: 'ops:ana' });
    expect(report.failures.map((f) => f.code)).toEqual(Array(5).fill('instance_paused'));
    expect(await countWhere(`state_value = '"cancelled"'`)).toBe(ACTIVE);
    expect(await countWhere(`status = 'active'`)).toBe(5 + 50);
    const [history] = (await orm.em
      .getConnection()
      .execute(`select type, actor, payload from sk_event where seq = 2 and type = 'workflow.cancel' limit 1`, [], 'all')) as {
      type: string;
      actor: string;
      payload: unknown;
    }[];
    expect(history).toEqual({ type: 'workflow.cancel', actor: 'ops:ana', payload: { reason: 'catalogue withdrawn' } });
    expect((await second.bulk.list(tenant)).items.map((j) => j.id)).toEqual([job.id]);
  });
});

describe('bulk job takeover on Postgres', () => {
  test('a job whose process crashed is claimed once its lease has lapsed and goes on after its cursor', { timeout: 120_000 }, async () => {
    const runtime = await newRuntime('takeover-a', 7);
    for (let i = 0; i < 12; i++) await runtime.start({ machine: 'idle-order', input: { batch: 'b3' }, tenant });
    const filter = { machineId: 'idle-order', context: { batch: 'b3' } };
    // In the database's order, which the job's cursor follows.
    const sorted = await store.bulkStore().matchingIds(tenant, filter, null, 100);
    expect(sorted).toHaveLength(12);
    const now = new Date();
    const id = 'a1b2c3d4-0000-4000-8000-000000000002';
    // As a crashed process left it: five instances handled, its lease lapsed a second ago.
    await store.bulkStore().createJob({
      ...{ id, tenant, action: 'pause', filter, params: {}, reason: null, actor: 'ops:ana', status: 'running', total: 12 },
      ...{ done: 5, failed: 0, skipped: 0, cursor: sorted[4]!, failures: [], leaseOwner: 'crashed' },
      ...{ leaseUntil: new Date(now.getTime() - 1000), createdAt: now, updatedAt: now, finishedAt: null, cancelledBy: null },
    });
    runtime.bulk.resume();
    const job = await eventually(
      async () => {
        const j = await runtime.bulk.get(id, tenant);
        return j.status === 'completed' && j;
      },
      'the job to be taken over and complete',
      100_000,
    );
    expect(job).toMatchObject({ done: 12, failed: 0, skipped: 0 });
    const paused = await orm.em
      .getConnection()
      .execute(`select id from sk_instance where paused and snapshot #> '{context,batch}' = '"b3"' order by id`, [], 'all');
    expect((paused as { id: string }[]).map((r) => r.id)).toEqual(sorted.slice(5));
  });
});
