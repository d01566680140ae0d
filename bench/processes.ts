/**
 * The multi-process rows of `npm run bench -- --processes` (or BENCH_PROCESSES=1): 1, 2 and 4 runtime
 * processes (`bench-process.ts`, child processes) on one database, 64 three-step workflows in flight in
 * each; then a send to an instance another process holds, measured in the sender (send → committed) and
 * in the holder (send → the holder hears the commit by NOTIFY). Version conflicts are counted by the
 * processes' stores.
 */
import { fileURLToPath } from 'node:url';
import { startWorker, type Worker } from '../test/support/worker.ts';

const script = fileURLToPath(new URL('./bench-process.ts', import.meta.url));

export interface ProcessRow {
  processes: number;
  rate: number;
  conflicts: number;
}

export interface CrossProcess {
  sends: number;
  committed: { p50: number; p99: number };
  heard: { p50: number; p99: number };
  conflicts: number;
}

async function spawn(url: string, n: number): Promise<Worker[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => startWorker({ DATABASE_URL: url, BENCH_NAME: `p${i}` }, script)));
}

async function stop(workers: Worker[]): Promise<void> {
  await Promise.all(workers.map((w) => w.call('close').catch(() => undefined)));
  await Promise.all(workers.map((w) => w.kill()));
}

/** Workflows per second with `n` processes, 64 in flight in each, for `seconds`. */
export async function throughputWith(url: string, n: number, seconds: number): Promise<ProcessRow> {
  const workers = await spawn(url, n);
  try {
    const results = await Promise.all(workers.map((w) => w.call<{ completed: number; conflicts: number }>('run', seconds, 64)));
    return {
      processes: n,
      rate: results.reduce((s, r) => s + r.completed, 0) / seconds,
      conflicts: results.reduce((s, r) => s + r.conflicts, 0),
    };
  } finally {
    await stop(workers);
  }
}

/**
 * Sends alternate between two processes, each to an instance the other committed last (so the sender's
 * copy is stale or evicted): the path of an event arriving at a process that does not hold the instance.
 */
export async function crossProcessSends(url: string, seconds: number): Promise<CrossProcess> {
  const [a, b] = (await spawn(url, 2)) as [Worker, Worker];
  try {
    const ids = await b.call<string[]>('counters', 50);
    const lastWriter = new Map(ids.map((id) => [id, b]));
    const before = (await a.call<number>('conflicts')) + (await b.call<number>('conflicts'));
    const committed: number[] = [];
    const heard: number[] = [];
    const end = performance.now() + seconds * 1000;
    for (let k = 0; performance.now() < end; k++) {
      const id = ids[k % ids.length]!;
      const holder = lastWriter.get(id)!;
      const sender = holder === a ? b : a;
      const r = await sender.call<{ ms: number; version: number; sentAt: number }>('send', id);
      const at = await holder.call<number>('heard', id, r.version);
      committed.push(r.ms);
      heard.push(at - r.sentAt);
      lastWriter.set(id, sender);
    }
    const after = (await a.call<number>('conflicts')) + (await b.call<number>('conflicts'));
    return { sends: committed.length, committed: quantiles(committed), heard: quantiles(heard), conflicts: after - before };
  } finally {
    await stop([a, b]);
  }
}

function quantiles(samples: number[]) {
  const s = [...samples].sort((x, y) => x - y);
  return { p50: s[Math.floor(s.length * 0.5)]!, p99: s[Math.floor(s.length * 0.99)]! };
}
