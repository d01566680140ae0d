/**
 * `npm run bench`: the runtime against raw Postgres on the same database in one run.
 *
 * (a) raw reference: 2 KB jsonb upsert; 3-statement transaction (history insert
 *     + snapshot upsert + effect insert), sequential and 32 concurrent clients;
 * (b) a 3-step workflow (three invoked steps returning small objects),
 *     sequential (workflows/s, p50, p99) and 64 in flight, from an empty store and again warm (see workflows());
 * (c) send an event to a waiting instance → committed, p50/p99.
 * Each result is printed with its ratio to the raw reference. DATABASE_URL
 * selects a server; otherwise an embedded one is started in a temp folder.
 * `--processes` (or BENCH_PROCESSES=1) adds the multi-process rows (bench/processes.ts); `--million` runs
 * only the large-store measurements (bench/million.ts) on a database of their own; `--outbox` only outbox
 * delivery (bench/outbox.ts); `--stuck` only the throughput under a held xmin horizon (bench/stuck.ts); `--churn` only
 * table sizes and vacuum under steady load with retention (bench/churn.ts).
 */
import { mkdtemp, rm, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { openDatabase, PgInstanceStore, startEmbeddedPostgres } from '../adapters/postgres/index.ts';
import { Runtime } from '../runtime/index.ts';
import { counter, threeSteps } from '../test/fixtures/machines.ts';
import { million } from './million.ts';
import { outboxRows } from './outbox.ts';
import { stuck } from './stuck.ts';
import { churn } from './churn.ts';
import { workflowRunner } from './run-one.ts';
import { crossProcessSends, throughputWith, type ProcessRow } from './processes.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const PROCESSES = process.argv.includes('--processes') || ['1', 'true', 'on'].includes(process.env.BENCH_PROCESSES ?? '');

async function main() {
  let url = process.env.DATABASE_URL;
  let cleanup = async () => {};
  if (!url) {
    const dir = await mkdtemp(path.join(tmpdir(), 'statekeeper-bench-'));
    await chmod(dir, 0o755);
    const server = await startEmbeddedPostgres({ dataDir: path.join(dir, 'pg') });
    url = server.url;
    cleanup = async () => (await server.stop(), await rm(dir, { recursive: true, force: true }));
  }
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query('drop database if exists sk_bench with (force)');
  await admin.query('create database sk_bench');
  await admin.end();
  const u = new URL(url);
  u.pathname = '/sk_bench';
  const dbUrl = u.toString();

  if (process.argv.includes('--million')) {
    const rows = await million(dbUrl);
    const w = Math.max(...rows.map((r) => r[0].length));
    for (const [a, b] of rows) console.log(`${a.padEnd(w)}  ${b}`);
    return cleanup();
  }
  if (process.argv.includes('--outbox')) {
    const rows = await outboxRows(dbUrl, SECONDS);
    const w = Math.max(...rows.map((r) => r[0].length));
    for (const [a, b] of rows) console.log(`${a.padEnd(w)}  ${b}`);
    return cleanup();
  }
  if (process.argv.includes('--stuck')) {
    await stuck(dbUrl); // prints as it goes: the windows are the point
    return cleanup();
  }
  if (process.argv.includes('--churn')) {
    await churn(dbUrl); // prints as it goes, a sample a minute
    return cleanup();
  }
  const version = await one(dbUrl, 'show server_version');
  console.log(`PostgreSQL ${version.server_version}, ${SECONDS}s per measurement, node ${process.version}\n`);

  const raw = await rawReference(dbUrl);
  const wf = await workflows(dbUrl);
  const send = await sends(dbUrl);

  const rows: [string, string, string][] = [
    ['raw 2 KB jsonb upsert, 1 client', `${fmt(raw.upsert1)} TPS`, ''],
    ['raw 2 KB jsonb upsert, 32 clients', `${fmt(raw.upsert32)} TPS`, ''],
    ['raw 3-statement tx, 1 client', `${fmt(raw.tx1.tps)} TPS, p50 ${ms(raw.tx1.p50)}`, 'reference'],
    ['raw 3-statement tx, 32 clients', `${fmt(raw.tx32)} TPS`, 'reference'],
    [
      '3-step workflow, sequential',
      `${fmt(wf.seq.rate)} wf/s, p50 ${ms(wf.seq.p50)}, p99 ${ms(wf.seq.p99)}`,
      `p50 = ${(wf.seq.p50 / raw.tx1.p50).toFixed(2)}x one raw tx (target <= 5x)`,
    ],
    ['3-step workflow, 64 in flight', `${fmt(wf.par.rate)} wf/s`, `${pct(wf.par.rate / raw.tx32)} of raw 32-client TPS (target >= 47%)`],
    [
      `3-step workflow, sequential, warm store`,
      `${fmt(wf.warm.seq.rate)} wf/s, p50 ${ms(wf.warm.seq.p50)}, p99 ${ms(wf.warm.seq.p99)}`,
      `p50 = ${(wf.warm.seq.p50 / raw.tx1.p50).toFixed(2)}x one raw tx (${fmt(wf.stored)} instances stored, analyzed)`,
    ],
    [
      '3-step workflow, 64 in flight, warm store',
      `${fmt(wf.warm.par.rate)} wf/s`,
      `${pct(wf.warm.par.rate / raw.tx32)} of raw 32-client TPS`,
    ],
    [
      'send -> committed, sequential',
      `p50 ${ms(send.p50)}, p99 ${ms(send.p99)}`,
      `p50 = ${(send.p50 / raw.tx1.p50).toFixed(2)}x one raw tx (target p50 <= 1 ms)`,
    ],
  ];
  if (PROCESSES) rows.push(...(await processRows(dbUrl, raw.tx32)));
  const w = Math.max(...rows.map((r) => r[0].length));
  for (const [a, b, c] of rows) console.log(`${a.padEnd(w)}  ${b.padEnd(44)}  ${c}`);
  await cleanup();
}

/** 1, 2 and 4 runtime processes on the database, and sends to an instance another process holds. */
async function processRows(url: string, rawTx32: number): Promise<[string, string, string][]> {
  const runs: ProcessRow[] = [];
  for (const n of [1, 2, 4]) runs.push(await throughputWith(url, n, SECONDS));
  const one = runs[0]!.rate;
  const rows: [string, string, string][] = runs.map((r) => [
    `3-step workflow, ${r.processes} process${r.processes > 1 ? 'es' : ''} x 64 in flight`,
    `${fmt(r.rate)} wf/s, ${r.conflicts} conflict retries`,
    `${(r.rate / one).toFixed(2)}x 1 process, ${pct(r.rate / rawTx32)} of raw 32-client TPS`,
  ]);
  const x = await crossProcessSends(url, SECONDS);
  rows.push(
    ['send via A to an instance B holds', `committed p50 ${ms(x.committed.p50)}, p99 ${ms(x.committed.p99)}`, `${x.sends} sends`],
    ['  ... B hears it (NOTIFY)', `p50 ${ms(x.heard.p50)}, p99 ${ms(x.heard.p99)}`, `${x.conflicts} conflict retries`],
  );
  return rows;
}

/** Raw reference with the pg driver, no ORM: what Postgres itself can do here. */
async function rawReference(url: string) {
  const pool = new pg.Pool({ connectionString: url, max: 32 });
  await pool.query(`create table raw_doc (id text primary key, doc jsonb not null, version int not null default 1)`);
  await pool.query(
    `create table raw_hist (instance_id text, seq int, type text, payload jsonb, created_at timestamptz default now(),
      primary key (instance_id, seq))`,
  );
  await pool.query(
    `create table raw_eff (id bigserial primary key, instance_id text, kind text, input jsonb, created_at timestamptz default now())`,
  );
  const doc = JSON.stringify({ data: 'x'.repeat(2000) });
  let n = 0;
  const upsert = () =>
    pool.query(
      `insert into raw_doc (id, doc) values ($1, $2) on conflict (id) do update set doc = excluded.doc, version = raw_doc.version + 1`,
      [`d${n++ % 1000}`, doc],
    );
  const upsert1 = await throughput(1, upsert);
  const upsert32 = await throughput(32, upsert);
  let seq = 0;
  const tx = async () => {
    const c = await pool.connect();
    const id = `i${seq % 5000}`;
    const s = ++seq;
    try {
      await c.query('begin');
      await c.query(`insert into raw_hist (instance_id, seq, type, payload) values ($1, $2, 'e', '{"a":1}')`, [id, s]);
      await c.query(
        `insert into raw_doc (id, doc) values ($1, $2) on conflict (id) do update set doc = excluded.doc, version = raw_doc.version + 1`,
        [id, doc],
      );
      await c.query(`insert into raw_eff (instance_id, kind, input) values ($1, 'step', '{"n":1}')`, [id]);
      await c.query('commit');
    } finally {
      c.release();
    }
  };
  const tx1 = await latency(tx);
  const tx32 = await throughput(32, tx);
  await pool.end();
  return { upsert1, upsert32, tx1, tx32 };
}

async function newRuntime(url: string, poolSize: number) {
  const store = new PgInstanceStore(await openDatabase({ url, poolSize }));
  const runtime = new Runtime({ store, workerId: `bench-${process.pid}`, pollIntervalMs: 0 });
  // Steps first: a machine registers only with every step it invokes.
  runtime.registerSteps({
    stepA: async ({ n }: { n: number }) => ({ a: n + 1 }),
    stepB: async ({ n }: { n: number }) => ({ b: n + 2 }),
    stepC: async ({ n }: { n: number }) => ({ c: n + 3 }),
  });
  runtime.register(threeSteps, { version: '1' });
  runtime.register(counter, { version: '1' });
  return { runtime, close: async () => (await runtime.close(), await store.close()) };
}

/**
 * Start → three steps → done, measured until the final commit: first from an empty store (the rows this bench has
 * always printed), then again on the store those runs left behind ("warm").
 *
 * @remarks A prepared statement's generic plan is made at its sixth run on a connection and kept until its tables'
 * statistics change. Made while the tables held a few hundred rows, it may read sk_instance in full, and keeps
 * doing so as the table grows until autovacuum analyzes it (measured: 10-20 s into a run on the embedded server,
 * 5-20% of the 64-in-flight throughput). The warm rows analyze the tables first, as pgbench vacuums before a run,
 * and use a new runtime whose statements are planned for the tables' current size, as in a store that has been
 * running for a while.
 */
async function workflows(url: string) {
  const cold = await workflowRates(url);
  await one(url, 'analyze');
  const { n: stored } = await one(url, 'select count(*)::int as n from sk_instance');
  const warm = await workflowRates(url);
  return { ...cold, warm, stored: stored as number };
}

async function workflowRates(url: string) {
  const { runtime, close } = await newRuntime(url, 32);
  const runOne = workflowRunner(runtime);
  for (let i = 0; i < 200; i++) await runOne(); // warm-up
  const seq = await latency(runOne);
  const par = await throughput(64, runOne);
  await close();
  return { seq: { rate: seq.tps, p50: seq.p50, p99: seq.p99 }, par: { rate: par } };
}

/** An event to a waiting instance, resolved after its commit. */
async function sends(url: string) {
  const { runtime, close } = await newRuntime(url, 8);
  const ids = await Promise.all(Array.from({ length: 100 }, async () => (await runtime.start({ machine: 'counter' })).id));
  let i = 0;
  const r = await latency(() => runtime.send(ids[i++ % ids.length]!, { type: 'add', item: 'x' }));
  await close();
  return r;
}

async function latency(fn: () => Promise<unknown>) {
  const samples: number[] = [];
  const end = performance.now() + SECONDS * 1000;
  while (performance.now() < end) {
    const t = performance.now();
    await fn();
    samples.push(performance.now() - t);
  }
  samples.sort((a, b) => a - b);
  return {
    tps: samples.length / SECONDS,
    p50: samples[Math.floor(samples.length * 0.5)]!,
    p99: samples[Math.floor(samples.length * 0.99)]!,
  };
}

async function throughput(concurrency: number, fn: () => Promise<unknown>) {
  let count = 0;
  const end = performance.now() + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        await fn();
        count++;
      }
    }),
  );
  return count / SECONDS;
}

async function one(url: string, sql: string) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const { rows } = await c.query(sql);
  await c.end();
  return rows[0];
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => `${n.toFixed(2)} ms`;
const pct = (n: number) => `${(n * 100).toFixed(1)}%`;

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
