import type { AnyStateMachine } from 'xstate';
import type { StepRegistry } from '../step-types.ts';
import { SimulatedClock } from '../clock.ts';
import { MemoryStore } from '../memory-store.ts';
import type { InstanceStore } from '../ports.ts';
import type { RegisterOptions } from '../registry.ts';
import { Runtime, type RuntimeOptions } from '../runtime.ts';
import type { RuntimeObserver } from '../observer.ts';

/** Options of {@link createSimulation}. */
export interface SimulationOptions {
  /** Machines to register (each with its version). */
  readonly machines?: readonly { machine: AnyStateMachine; options: RegisterOptions }[];
  /** Step implementations by name; swap any of them for a fake. */
  readonly steps?: StepRegistry;
  /** Start of simulated time (default 2030-01-01T00:00:00Z). */
  readonly startTime?: Date;
  readonly onError?: (error: unknown) => void;
  /** Store to run on (default: a fresh in-memory store). */
  readonly store?: InstanceStore;
  /** As the runtime's options of the same names. */
  readonly minDelayMs?: RuntimeOptions['minDelayMs'];
  readonly transitionRateLimit?: RuntimeOptions['transitionRateLimit'];
  readonly bulkBatchSize?: RuntimeOptions['bulkBatchSize'];
  /** Told of step attempts, timer firings and claims (as `RuntimeOptions.observer`). */
  readonly observer?: RuntimeObserver;
  /** Outbox delivery options (as `RuntimeOptions.outbox`); deliveries use the memory store's outbox by default. */
  readonly outbox?: RuntimeOptions['outbox'];
  /** Schedules declared in code (as `RuntimeOptions.schedules`): they tick on the simulated clock. */
  readonly schedules?: RuntimeOptions['schedules'];
  /** Retention (as `RuntimeOptions.retention`); it runs on its own only when `intervalMs` is given. */
  readonly retention?: RuntimeOptions['retention'];
}

/** A runtime on an in-memory store and a simulated clock. */
export interface Simulation {
  readonly runtime: Runtime;
  readonly clock: SimulatedClock;
  readonly store: InstanceStore;
  /** Waits until no event, step or delivery is in flight. */
  settle(): Promise<void>;
  /** Moves simulated time forward, firing due timers and retries in order and settling after each. */
  advance(ms: number): Promise<void>;
  /** Advances to the next scheduled timer or retry, if any; returns false when nothing is scheduled. */
  next(): Promise<boolean>;
}

/**
 * The same runtime as in production over an in-memory store and a simulated
 * clock: a workflow that waits three days runs in milliseconds.
 *
 * @example
 * ```ts
 * const sim = await createSimulation({ machines: [{ machine: signUp, options: { version: '1' } }], steps: fakeSteps });
 * const { id } = await sim.runtime.start({ machine: 'sign-up', input });
 * await sim.settle();
 * await sim.advance(24 * 3600_000); // the verification deadline passes
 * ```
 */
export async function createSimulation(options: SimulationOptions = {}): Promise<Simulation> {
  const clock = new SimulatedClock(options.startTime);
  const store = options.store ?? new MemoryStore();
  // Every timer is armed in memory (infinite horizon) and no poller runs: nothing can be missed in one process.
  const runtime = new Runtime({
    store,
    clock,
    workerId: 'simulation',
    pollIntervalMs: 0,
    // One process on a simulated clock: nobody to take anything over, and a heartbeat would never let `next()` end.
    heartbeatMs: 0,
    timerHorizonMs: Number.POSITIVE_INFINITY,
    steps: options.steps,
    onError: options.onError,
    minDelayMs: options.minDelayMs,
    transitionRateLimit: options.transitionRateLimit,
    bulkBatchSize: options.bulkBatchSize,
    // A periodic run would fire every simulated hour: only when asked for.
    retention: { ...options.retention, intervalMs: options.retention?.intervalMs ?? 0 },
    observer: options.observer,
    outbox: options.outbox,
  });
  // As createRuntime: a step the machines invoke with no implementation is reported now, not when first reached.
  runtime.registry.registerAll(options.machines ?? []);
  for (const s of options.schedules ?? []) await runtime.schedules.define(s);
  await runtime.resume();
  const quiet = async () => {
    // Step promises may resolve on later ticks (fake I/O); settle until quiet twice in a row.
    for (let round = 0; round < 3; round++) {
      await runtime.settled();
      await new Promise((r) => setImmediate(r));
    }
  };
  const settle = async () => {
    await quiet();
    // Work due now (an event the machine sent itself, a zero delay) runs as the system clock would run it: at once.
    for (let at = clock.nextAt(); at && at <= clock.now(); at = clock.nextAt()) await clock.advance(0, quiet);
  };
  return {
    runtime,
    clock,
    store,
    settle,
    advance: (ms) => clock.advance(ms, settle),
    async next() {
      await settle();
      const at = clock.nextAt();
      if (!at) return false;
      await clock.advance(at.getTime() - clock.now().getTime(), settle);
      return true;
    },
  };
}

export { SimulatedClock } from '../clock.ts';
export { MemoryStore } from '../memory-store.ts';
