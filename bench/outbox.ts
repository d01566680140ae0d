/**
 * `npm run bench -- --outbox`: outbox delivery on one database. (a) The commit of an event that emits, with no
 * subscription and with one matching webhook (the commit then also writes a delivery row), send → committed;
 * (b) webhook delivery to a local receiver answering 204: rows emitted by 50 instances as fast as sends commit,
 * deliveries per second until every row is delivered, and the lag from commit to recorded delivery.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { openDatabase, PgInstanceStore, PgOutboxStore } from '../adapters/postgres/index.ts';
import { Runtime } from '../runtime/index.ts';
import { emitter } from '../test/fixtures/emitter.machine.ts';

const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor(xs.length * p))] ?? Number.NaN;
const ms = (x: number) => `${x.toFixed(2)} ms`;

/** The rows printed by `npm run bench -- --outbox`. */
export async function outboxRows(url: string, seconds: number): Promise<[string, string][]> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(204).end());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const hook = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  const orm = await openDatabase({ url, poolSize: 16 });
  const store = new PgInstanceStore(orm);
  const runtime = new Runtime({
    store,
    workerId: `bench-outbox-${process.pid}`,
    pollIntervalMs: 500,
    outbox: { store: new PgOutboxStore(orm, store.origin), concurrency: 32 },
  });
  runtime.register(emitter, { version: '1' });
  const ids = await Promise.all(Array.from({ length: 50 }, async () => (await runtime.start({ machine: 'emitter' })).id));
  let n = 0;
  const send = () => runtime.send(ids[n % ids.length]!, { type: 'go', kind: 'bench.tick', n: n++ });
  const sendLatency = async (ms: number) => {
    const samples: number[] = [];
    const end = performance.now() + ms;
    while (performance.now() < end) {
      const t = performance.now();
      await send();
      samples.push(performance.now() - t);
    }
    return samples.sort((a, b) => a - b);
  };
  const rows: [string, string][] = [];
  await sendLatency(1000); // warm-up
  const bare = await sendLatency(seconds * 1000);
  rows.push(['emit, no subscription: send → committed', `p50 ${ms(pct(bare, 0.5))}, p99 ${ms(pct(bare, 0.99))}`]);

  // Deliveries written by the commit but not made (a handler no process handles): the fan-out's own cost.
  const stop = await runtime.outbox.subscribe('bench-parked', { eventTypes: ['bench.*'] }, () => {});
  stop();
  const parked = await sendLatency(seconds * 1000);
  rows.push(['emit, one matching subscription: send → committed', `p50 ${ms(pct(parked, 0.5))}, p99 ${ms(pct(parked, 0.99))}`]);
  const conn = new pg.Client({ connectionString: url });
  await conn.connect();
  await conn.query(`update sk_subscription set deleted_at = now() where id = 'handler.bench-parked'`);
  await conn.query(`update sk_delivery set status = 'cancelled' where status = 'pending'`);

  // Webhook delivery: 16 concurrent senders emit for the measured time while the dispatcher delivers.
  await runtime.outbox.createWebhook({ url: hook, eventTypes: ['bench.*'] }, { tenant: 'default' });
  const t0 = performance.now();
  let emitted = 0;
  const end = t0 + seconds * 1000;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (performance.now() < end) await send().then(() => emitted++);
    }),
  );
  for (;;) {
    const { rows: r } = await conn.query(`select count(*)::int as n from sk_delivery where status = 'pending'`);
    if (r[0].n === 0) break;
    await new Promise((res) => setTimeout(res, 20));
  }
  const drained = (performance.now() - t0) / 1000;
  const { rows: lag } = await conn.query(
    `select extract(epoch from delivered_at - created_at) * 1000 as ms from sk_delivery where status = 'delivered' order by 1`,
  );
  const lags = lag.map((r) => Number(r.ms));
  rows.push([
    'webhook deliveries (50 instances, 32 in flight)',
    `${(lags.length / drained).toFixed(0)}/s (${emitted} rows emitted in ${seconds} s, all delivered after ${drained.toFixed(1)} s)`,
  ]);
  rows.push(['  commit → delivery recorded', `p50 ${ms(pct(lags, 0.5))}, p99 ${ms(pct(lags, 0.99))}`]);
  await conn.end();
  await runtime.close();
  await store.close();
  server.close();
  return rows;
}
