/**
 * One runtime process of the multi-process benchmark (`bench/processes.ts`): its own pool, store, LISTEN
 * connection and runtime on DATABASE_URL, as a server process has. Driven over IPC (the crash tests'
 * protocol: `{ id, op, args }` → `{ id, ok, result }`, `{ ready: true }` once serving).
 *
 * Ops: `run(seconds, inFlight)` three-step workflows → { completed, conflicts }; `counters(n)` → ids;
 * `send(id)` → { ms, version, sentAt }; `heard(id, version)` → wall time this process heard that version
 * committed elsewhere; `close()`.
 */
import { openDatabase, PgInstanceStore, PgNotifier } from '../adapters/postgres/index.ts';
import { createRuntime, type InstanceStore } from '../runtime/index.ts';
import { counter, threeSteps } from '../test/fixtures/machines.ts';
import { workflowRunner } from './run-one.ts';

const url = process.env.DATABASE_URL!;
const orm = await openDatabase({ url, poolSize: 16 });
const pgStore = new PgInstanceStore(orm);
let conflicts = 0;
// Version conflicts seen by this process's commits: the price of two processes deciding on one instance.
const store = new Proxy(pgStore, {
  get(target, key, receiver) {
    if (key !== 'commit') return Reflect.get(target, key, receiver);
    return async (req: Parameters<InstanceStore['commit']>[0]) => {
      const res = await target.commit(req);
      if (!res.ok && res.reason === 'version_conflict') conflicts++;
      return res;
    };
  },
}) as InstanceStore;
const notifier = new PgNotifier({ url, origin: pgStore.origin });
await notifier.start();
pgStore.followGrowth(notifier);
const runtime = await createRuntime({
  store,
  workerId: `bench-${process.env.BENCH_NAME ?? process.pid}`,
  wakeups: notifier,
  steps: {
    stepA: async ({ n }: { n: number }) => ({ a: n + 1 }),
    stepB: async ({ n }: { n: number }) => ({ b: n + 2 }),
    stepC: async ({ n }: { n: number }) => ({ c: n + 3 }),
  },
  machines: [
    { machine: threeSteps, options: { version: '1' } },
    { machine: counter, options: { version: '1' } },
  ],
});

/** Wall time in ms with sub-millisecond resolution, comparable between processes of one machine. */
const wall = () => performance.timeOrigin + performance.now();

const runOne = workflowRunner(runtime);

/** Versions other processes committed, as announced, and who waits for which. */
const heardAt = new Map<string, { version: number; at: number }>();
const waiting = new Map<string, { version: number; resolve: (at: number) => void }>();
runtime.subscribeRemote((c) => {
  const at = wall();
  heardAt.set(c.instanceId, { version: c.version, at });
  const w = waiting.get(c.instanceId);
  if (w && c.version >= w.version) waiting.delete(c.instanceId), w.resolve(at);
});

const ops: Record<string, (...args: any[]) => Promise<unknown>> = {
  async run(seconds: number, inFlight: number) {
    for (let i = 0; i < 50; i++) await runOne(); // warm-up: prepared statements, JIT
    const before = conflicts;
    let completed = 0;
    const end = performance.now() + seconds * 1000;
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (performance.now() < end) {
          await runOne();
          completed++;
        }
      }),
    );
    return { completed, conflicts: conflicts - before };
  },
  async counters(n: number) {
    return Promise.all(Array.from({ length: n }, async () => (await runtime.start({ machine: 'counter' })).id));
  },
  async send(id: string) {
    const sentAt = wall();
    const t0 = performance.now();
    const res = await runtime.send(id, { type: 'add', item: 'x' });
    return { ms: performance.now() - t0, version: res.version, sentAt };
  },
  async heard(id: string, version: number) {
    const seen = heardAt.get(id);
    if (seen && seen.version >= version) return seen.at;
    return new Promise<number>((resolve) => waiting.set(id, { version, resolve }));
  },
  async conflicts() {
    return conflicts;
  },
  async close() {
    await runtime.close();
    await notifier.close();
    await pgStore.close();
    return true;
  },
};

process.on('message', async (msg: { id: number; op: string; args: unknown[] }) => {
  try {
    process.send!({ id: msg.id, ok: true, result: await ops[msg.op]!(...msg.args) });
  } catch (e) {
    process.send!({ id: msg.id, ok: false, error: { message: (e as Error).message, code: (e as { code?: string }).code } });
  }
});
process.send!({ ready: true });
