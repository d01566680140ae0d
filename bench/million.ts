/**
 * `npm run bench -- --million`: the runtime over a large store. Rows are loaded straight into the tables
 * by set-based SQL (generate_series), cloned from one instance the runtime made (so their snapshots and
 * timer rows are what it writes itself):
 *
 * - 10k finished instances, then a restart of a runtime process (`million-process.ts`): time to serve
 *   and resident memory;
 * - up to 1M finished instances (each with one closed step row) and 100k waiting ones, each with a
 *   pending timer: 10k of them due within the same minute (starting BENCH_TIMERS_IN_S, 90 s, after the load), the other
 *   90k spread over the hour after; a restart again, the lag of the 10k timers (p50/p99) and the p50/p99
 *   of the instance list (with filters) and of the stats at 1.1M rows.
 *
 * Heavy (a few minutes, a few GB of disk): not part of `npm run bench` without the flag.
 */
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { openDatabase, PgInstanceStore } from '../adapters/postgres/index.ts';
import { createRuntime } from '../runtime/index.ts';
import { counter, deadline } from '../test/fixtures/machines.ts';
import { startWorker, type Worker } from '../test/support/worker.ts';

const script = fileURLToPath(new URL('./million-process.ts', import.meta.url));
const FINISHED = Number(process.env.BENCH_FINISHED ?? 1_000_000);
const WAITING = Number(process.env.BENCH_WAITING ?? 100_000);
const SAME_MINUTE = Math.min(WAITING, 10_000);
/** When the minute of the 10k timers starts, in seconds after the load (time for the restart and the reads first). */
const TIMERS_IN_S = Number(process.env.BENCH_TIMERS_IN_S ?? 90);

const mb = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MB`;
const ms = (n: number) => `${n.toFixed(1)} ms`;

/** Runs the large-store measurements on `url` (a database of its own); resolves with printable rows. */
export async function million(url: string): Promise<[string, string][]> {
  const rows: [string, string][] = [];
  const db = new pg.Pool({ connectionString: url, max: 2 });
  const q = async (sql: string, params: unknown[] = []) => (await db.query(sql, params)).rows;

  // One instance of each kind made by the runtime itself: its rows are the templates of the copies.
  const orm = await openDatabase({ url });
  const store = new PgInstanceStore(orm);
  const runtime = await createRuntime({
    store,
    workerId: 'million-loader',
    machines: [
      { machine: counter, options: { version: '1' } },
      { machine: deadline, options: { version: '1' } },
    ],
  });
  const done = await runtime.start({ machine: 'counter', instanceId: 'template-done' });
  await runtime.stopInstance(done.id, 'template');
  const waiting = await runtime.start({ machine: 'deadline', instanceId: 'template-waiting' });
  await runtime.close();
  await store.close();

  // Bulk loads run with the row triggers off (the history chain's and the stats counters'): the counters are
  // recounted once after each load by sk_stats_rebuild (migration 20261209-stats-counters).
  const bulk = await db.connect();
  await bulk.query(`set session_replication_role = replica`);
  const load = async (sql: string, params: unknown[]) => (await bulk.query(sql, params)).rows;
  const recount = async () => {
    const at = performance.now();
    await q('select sk_stats_rebuild()');
    return performance.now() - at;
  };

  // Finished instances `from`..`to`, each with one closed step row (2% failed, some retried): what stats reads.
  const loadFinished = async (from: number, to: number) => {
    const t = performance.now();
    await load(
      `insert into sk_instance (id, tenant, machine_id, machine_version, status, state_value, tags, snapshot, version, output,
         created_at, updated_at)
       select 'fin-' || g, t.tenant, t.machine_id, t.machine_version, 'done', t.state_value, t.tags, t.snapshot, 2,
         '{"outcome":"completed"}'::jsonb, now() - interval '30 days' + g * interval '2 second',
         now() - interval '30 days' + g * interval '2 second' + interval '3 second'
       from generate_series($1::int, $2::int) g, sk_instance t where t.id = $3`,
      [from, to, done.id],
    );
    await load(
      `insert into sk_effect (id, instance_id, kind, name, target, status, attempts, created_at, updated_at, closed_at)
       select 'fin-' || g || ':a:1', 'fin-' || g, 'step', 'a', 'stepA', case when g % 50 = 0 then 'failed' else 'done' end,
         1 + (g % 3), now(), now(), now()
       from generate_series($1::int, $2::int) g`,
      [from, to],
    );
    rows.push([`load finished ${from}..${to} (instance + closed step row)`, ms(performance.now() - t)]);
  };

  const restart = async (label: string) => {
    const t = performance.now();
    const w = await startWorker({ DATABASE_URL: url }, script);
    const forked = performance.now() - t;
    const r = await w.call<{ readyMs: number; rss: number }>('ready');
    rows.push([`restart at ${label}: fork to serving`, `${ms(forked)} (open + resume ${ms(r.readyMs)}), RSS ${mb(r.rss)}`]);
    return w;
  };

  await loadFinished(1, 10_000);
  await recount();
  await q('analyze');
  let w: Worker = await restart('10k stored');
  await w.call('close');
  await w.kill();

  await loadFinished(10_001, FINISHED);
  // Waiting instances: the template's row, history row 1 and timer row per copy; due times are set below.
  const t = performance.now();
  await load(
    `insert into sk_instance (id, tenant, machine_id, machine_version, status, state_value, tags, snapshot, version, created_at, updated_at)
     select 'wait-' || g, t.tenant, t.machine_id, t.machine_version, t.status, t.state_value, t.tags, t.snapshot, 1, now(), now()
     from generate_series(1, $1::int) g, sk_instance t where t.id = $2`,
    [WAITING, waiting.id],
  );
  // The history rows carry their chain hash computed here, with the row trigger off for this load: the trigger's
  // plan, made when the table held a few rows, would scan the table for every row of a 100k-row insert.
  await load(
    `insert into sk_event (instance_id, seq, type, payload, source, actor, state_value, handled, created_at, prev_hash, hash)
     select 'wait-' || g, 1, e.type, e.payload, e.source, e.actor, e.state_value, e.handled, e.created_at, null,
       sk_event_digest(null, 'wait-' || g, 1, e.type, e.payload, e.source, e.actor, e.state_value, e.handled, null, e.created_at)
     from generate_series(1, $1::int) g, sk_event e where e.instance_id = $2 and e.seq = 1`,
    [WAITING, waiting.id],
  );
  // 10k due within one minute starting 90 s from now; the rest spread over the following hour.
  await load(
    `insert into sk_effect (id, instance_id, kind, name, target, status, event, attempts, due_at, created_at, updated_at)
     select replace(e.id, $2, 'wait-' || g), 'wait-' || g, e.kind, e.name, e.target, 'pending', e.event, 0,
       case when g <= $3 then now() + ($4 + g * 60.0 / $3) * interval '1 second'
            else now() + ($4 + 60) * interval '1 second' + random() * interval '1 hour' end,
       now(), now()
     from generate_series(1, $1::int) g, sk_effect e where e.instance_id = $2 and e.kind = 'timer'`,
    [WAITING, waiting.id, SAME_MINUTE, TIMERS_IN_S],
  );
  // The template's own timer is out of the way.
  await q(`update sk_effect set status = 'cancelled', closed_at = now() where instance_id = $1`, [waiting.id]);
  rows.push([`load ${WAITING} waiting (instance, history row, timer)`, ms(performance.now() - t)]);
  await bulk.query(`set session_replication_role = origin`);
  bulk.release();
  rows.push(['stats counters recounted (sk_stats_rebuild)', ms(await recount())]);
  const analyzeAt = performance.now();
  await q('analyze');
  rows.push(['analyze', ms(performance.now() - analyzeAt)]);
  const [{ n }] = await q(`select count(*)::int as n from sk_instance`);
  const [{ size }] = await q(`select pg_size_pretty(pg_database_size(current_database())) as size`);
  rows.push(['stored', `${n} instances, database ${size}`]);

  w = await restart(`${n} stored`);
  const queries = await w.call<Record<string, { p50: number; p99: number }>>('queries', 20);
  for (const [name, r] of Object.entries(queries)) rows.push([`${name} at ${n} rows`, `p50 ${ms(r.p50)}, p99 ${ms(r.p99)}`]);

  // The 10k timers of the same minute: wait until they fired (or 5 minutes past their minute).
  const deadlineAt = Date.now() + (TIMERS_IN_S + 60 + 300) * 1000;
  let lags: number[] = [];
  while (Date.now() < deadlineAt) {
    lags = await w.call<number[]>('lags');
    if (lags.length >= SAME_MINUTE) break;
    await new Promise((r) => setTimeout(r, 2000));
  }
  const sorted = lags.slice(0, SAME_MINUTE).sort((a, b) => a - b);
  rows.push([
    `${SAME_MINUTE} timers due in one minute`,
    `${sorted.length} fired, lag p50 ${ms(sorted[Math.floor(sorted.length * 0.5)] ?? Number.NaN)}, ` +
      `p99 ${ms(sorted[Math.floor(sorted.length * 0.99)] ?? Number.NaN)}, max ${ms(sorted.at(-1) ?? Number.NaN)}`,
  ]);
  rows.push(['runtime RSS after the timers', mb(await w.call<number>('rss'))]);
  await w.call('close');
  await w.kill();
  await db.end();
  return rows;
}
