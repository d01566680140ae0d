/**
 * Orderly start and stop of the server process: whatever has been started is
 * stopped in reverse order (the database last), once, on SIGINT/SIGTERM at any
 * moment — during start-up too — with one line per problem instead of a stack
 * dump.
 */

/** Thrown by {@link Shutdown.checkpoint} when a signal arrived during start-up. */
export class StopRequested extends Error {
  override name = 'StopRequested';
}

/** Options of {@link createShutdown}. */
export interface ShutdownOptions {
  /** Where progress and problems go, one line each (default: console.log). */
  readonly log?: (line: string) => void;
  /** Ends the process (default: process.exit). */
  readonly exit?: (code: number) => void;
  /** A stop that takes longer ends the process with code 1 (default 60 s). */
  readonly timeoutMs?: number;
}

/** The stop sequence of one process. */
export interface Shutdown {
  /** Registers something to stop; it is stopped before everything registered earlier. */
  add(name: string, stop: () => Promise<void> | void): void;
  /** Throws {@link StopRequested} when a stop was asked for: start-up goes no further. */
  checkpoint(): void;
  /** Stops everything registered, then exits with `code` (0 unless a start-up failed). */
  stop(reason: string, code?: number): Promise<void>;
  /** Start-up is complete: a signal now stops at once (and a stop asked for earlier starts now). */
  ready(): void;
  /** Listens for SIGINT and SIGTERM. */
  listen(): void;
  /** True once a stop was asked for. */
  readonly requested: boolean;
}

/**
 * Creates the stop sequence.
 * @example
 * ```ts
 * const shutdown = createShutdown();
 * shutdown.listen();
 * const db = await startDatabase();
 * shutdown.add('database', () => db.stop());
 * shutdown.checkpoint();
 * ```
 */
export function createShutdown(options: ShutdownOptions = {}): Shutdown {
  const log = options.log ?? ((line: string) => console.log(line));
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const steps: { name: string; stop: () => Promise<void> | void }[] = [];
  let requested: string | undefined;
  let started = false;
  let running: Promise<void> | undefined;

  const stop = (reason: string, code = 0): Promise<void> => {
    requested ??= reason;
    running ??= (async () => {
      log(`statekeeper: ${reason}, stopping`);
      const timer = setTimeout(() => {
        log('statekeeper: stop took too long, exiting');
        exit(1);
      }, options.timeoutMs ?? 60_000);
      timer.unref();
      let failed = false;
      for (const step of steps.splice(0).reverse()) {
        try {
          await step.stop();
        } catch (e) {
          failed = true;
          log(`statekeeper: stopping ${step.name} failed: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
      clearTimeout(timer);
      log('statekeeper: stopped');
      exit(failed && code === 0 ? 1 : code);
    })();
    return running;
  };

  return {
    add: (name, fn) => void steps.push({ name, stop: fn }),
    checkpoint() {
      if (requested) throw new StopRequested(`${requested} during start-up`);
    },
    ready() {
      started = true;
      if (requested) void stop(requested);
    },
    stop,
    listen() {
      // During start-up a signal only marks the stop; main() stops at its next checkpoint, so
      // nothing is half-opened while it is being closed.
      for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => onSignal(signal));
    },
    get requested() {
      return requested !== undefined;
    },
  };

  function onSignal(signal: string): void {
    if (running || requested) {
      log(`statekeeper: ${signal} again, still stopping`);
      return;
    }
    if (!started) {
      requested = signal;
      log(`statekeeper: ${signal} during start-up, stopping once the current step is done`);
      return;
    }
    void stop(signal);
  }
}
