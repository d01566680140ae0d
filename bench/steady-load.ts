/**
 * Steady load for the long-running bench modes (`--stuck`, `--churn`): one runtime as a server runs it (its
 * own pool, the effect poller every second) with `inFlight` three-step workflows always in flight, recording
 * when each workflow finished and how long it took, and how long each commit (and create) took from the
 * runtime's call to the store until it was committed. The stats deltas are folded every 5 s, as the server
 * does (api/main.ts, STATEKEEPER_STATS_FOLD_MS). `claimDue` and `finishedChildren`, the poller's
 * queries, are timed too: they are what a held-back xmin horizon slows first.
 */
import { openDatabase, PgInstanceStore, startStatsFolding } from '../adapters/postgres/index.ts';
import { createRuntime, type InstanceStore, type Runtime } from '../runtime/index.ts';
import { threeSteps } from '../test/fixtures/machines.ts';
import { workflowRunner } from './run-one.ts';

/** A sample: when it ended (performance.now()) and how long it took, in ms. */
export interface Sample {
  at: number;
  ms: number;
}

export interface SteadyLoad {
  readonly runtime: Runtime;
  readonly store: PgInstanceStore;
  /** Finished workflows (start → final commit). */
  readonly workflows: Sample[];
  /** Store commits and creates (call → committed). */
  readonly commits: Sample[];
  /** The poller's claims (`claimDue`) and its finished-children query. */
  readonly polls: Sample[];
  /** Failed workflows (an error thrown by start or the runner), counted, not retried. */
  errors: number;
  /** Stops starting workflows, waits for those in flight, closes the runtime and the store. */
  stop(): Promise<void>;
}

const TIMED = new Set(['commit', 'create']);
const POLLS = new Set(['claimDue', 'finishedChildren']);

/** Starts `inFlight` workflows and keeps that many in flight until `stop()`. */
export async function startSteadyLoad(url: string, inFlight: number, workerId: string): Promise<SteadyLoad> {
  const store = new PgInstanceStore(await openDatabase({ url, poolSize: 32 }));
  const commits: Sample[] = [];
  const polls: Sample[] = [];
  const timed =
    (into: Sample[], fn: (...a: unknown[]) => Promise<unknown>) =>
    async (...args: unknown[]) => {
      const t = performance.now();
      const r = await fn(...args);
      const at = performance.now();
      into.push({ at, ms: at - t });
      return r;
    };
  const proxied = new Proxy(store, {
    get(target, key, receiver) {
      const v = Reflect.get(target, key, receiver);
      if (typeof key !== 'string' || typeof v !== 'function') return v;
      if (TIMED.has(key)) return timed(commits, v.bind(target));
      if (POLLS.has(key)) return timed(polls, v.bind(target));
      return v;
    },
  }) as InstanceStore;
  const runtime = await createRuntime({
    store: proxied,
    workerId,
    steps: {
      stepA: async ({ n }: { n: number }) => ({ a: n + 1 }),
      stepB: async ({ n }: { n: number }) => ({ b: n + 2 }),
      stepC: async ({ n }: { n: number }) => ({ c: n + 3 }),
    },
    machines: [{ machine: threeSteps, options: { version: '1' } }],
  });
  // As npm start does: the stats deltas the triggers write are folded into the counters every 5 s.
  const stopFolding = startStatsFolding(store, 5_000, (e) => console.error(e));
  const runOne = workflowRunner(runtime);
  for (let i = 0; i < 200; i++) await runOne(); // warm-up: prepared statements, JIT
  commits.length = 0;
  polls.length = 0;
  const workflows: Sample[] = [];
  let running = true;
  const load: SteadyLoad = {
    runtime,
    store,
    workflows,
    commits,
    polls,
    errors: 0,
    stop: async () => {
      running = false;
      await lanes;
      await stopFolding();
      await runtime.close();
      await store.close();
    },
  };
  const lanes = Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (running) {
        const t = performance.now();
        try {
          await runOne();
          const at = performance.now();
          workflows.push({ at, ms: at - t });
        } catch {
          load.errors++;
        }
      }
    }),
  );
  return load;
}

/** The q-quantile (0..1) of the samples' durations. */
export function quantile(samples: readonly Sample[], q: number): number {
  if (samples.length === 0) return Number.NaN;
  const s = samples.map((x) => x.ms).sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * q))]!;
}

/** The samples that ended in [from, to). */
export const between = (samples: readonly Sample[], from: number, to: number) => samples.filter((s) => s.at >= from && s.at < to);

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
