/**
 * The runtime process of `npm run bench -- --million` (`bench/million.ts`): opens the database and
 * resumes (a restart), then answers over IPC (the crash tests' protocol). Reports at ready how long
 * opening and resuming took; `lags()` gives the lag of every timer fired so far; `queries(n)` times the
 * list and stats reads; `rss()` its resident memory.
 */
import { openDatabase, PgInstanceStore, startStatsFolding } from '../adapters/postgres/index.ts';
import { createRuntime } from '../runtime/index.ts';
import { counter, deadline } from '../test/fixtures/machines.ts';

const t0 = performance.now();
const orm = await openDatabase({ url: process.env.DATABASE_URL! });
const store = new PgInstanceStore(orm);
// As npm start does: the stats deltas of what this process commits are folded every 5 s.
const stopFolding = startStatsFolding(store, 5_000, (e) => console.error(e));
const lags: number[] = [];
const runtime = await createRuntime({
  store,
  workerId: 'million',
  observer: { timerFired: (t) => lags.push(t.lagMs) },
  machines: [
    { machine: counter, options: { version: '1' } },
    { machine: deadline, options: { version: '1' } },
  ],
});
const readyMs = performance.now() - t0;

async function timed(fn: () => Promise<unknown>, n: number) {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    samples.push(performance.now() - t);
  }
  samples.sort((a, b) => a - b);
  return { p50: samples[Math.floor(n * 0.5)]!, p99: samples[Math.min(n - 1, Math.floor(n * 0.99))]! };
}

const ops: Record<string, (...args: any[]) => Promise<unknown>> = {
  async ready() {
    return { readyMs, rss: process.memoryUsage().rss };
  },
  async rss() {
    return process.memoryUsage().rss;
  },
  async lags() {
    return lags;
  },
  async queries(n: number) {
    // The API's list filters (GET /v1/instances) and GET /v1/stats, as the routes call them.
    return {
      listNewest: await timed(() => runtime.list({ tenant: 'default', limit: 50 }), n),
      listByStatus: await timed(() => runtime.list({ tenant: 'default', status: ['active'], limit: 50 }), n),
      listByMachineAndState: await timed(() => runtime.list({ tenant: 'default', machineId: 'deadline', state: 'waiting', limit: 50 }), n),
      // Counters, not rows (migration 20261209-stats-counters): cheap enough for 5n samples.
      stats: await timed(() => runtime.stats({ tenant: 'default' }), 5 * n),
    };
  },
  async close() {
    await stopFolding();
    await runtime.close();
    await store.close();
    return true;
  },
};

process.on('message', async (msg: { id: number; op: string; args: unknown[] }) => {
  try {
    process.send!({ id: msg.id, ok: true, result: await ops[msg.op]!(...msg.args) });
  } catch (e) {
    process.send!({ id: msg.id, ok: false, error: { message: (e as Error).message } });
  }
});
process.send!({ ready: true });
