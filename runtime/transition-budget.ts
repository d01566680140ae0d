/** How many transitions one instance may commit within a window (see {@link TransitionBudget}). */
export interface TransitionRateLimit {
  /** Transitions one instance may commit per window. */
  readonly maxTransitions: number;
  /** Length of the window in milliseconds, on the runtime's clock. */
  readonly windowMs: number;
}

/**
 * Default: 1,000 transitions per 10 s (100 a second on average). A busy
 * parent hearing from hundreds of children stays well inside it; a loop of
 * immediate self-sends or timers reaches it within seconds.
 */
export const DEFAULT_TRANSITION_RATE_LIMIT: TransitionRateLimit = { maxTransitions: 1_000, windowMs: 10_000 };

/** Windows of instances idle this long are forgotten when the map is swept. */
const SWEEP_AT = 10_000;

/**
 * Counts each instance's committed transitions in fixed windows of the
 * runtime's clock. The count is per process and in memory: it exists to stop
 * a runaway (a timer or self-send loop writing history as fast as the database
 * takes it), which runs where its timers are armed, not to meter fair use.
 */
export class TransitionBudget {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(private readonly limit: TransitionRateLimit) {}

  /** False when `instanceId` has already committed the limit within the current window. */
  allows(instanceId: string, now: number): boolean {
    const w = this.windows.get(instanceId);
    return !w || this.expired(w, now) || w.count < this.limit.maxTransitions;
  }

  /** Counts one committed transition of `instanceId` at `now`. */
  record(instanceId: string, now: number): void {
    let w = this.windows.get(instanceId);
    if (!w || this.expired(w, now)) {
      if (!w && this.windows.size >= SWEEP_AT) this.sweep(now);
      w = { start: now, count: 0 };
      this.windows.set(instanceId, w);
    }
    w.count++;
  }

  /** Forgets an instance (it finished). */
  forget(instanceId: string): void {
    this.windows.delete(instanceId);
  }

  private expired(w: { start: number }, now: number): boolean {
    // A clock that went back (a simulated one reset) starts a new window too.
    return now - w.start >= this.limit.windowMs || now < w.start;
  }

  private sweep(now: number): void {
    for (const [id, w] of this.windows) if (this.expired(w, now)) this.windows.delete(id);
  }
}

/** Checks a rate limit from configuration. */
export function isRateLimit(v: TransitionRateLimit): boolean {
  return Number.isInteger(v.maxTransitions) && v.maxTransitions >= 1 && Number.isInteger(v.windowMs) && v.windowMs >= 1;
}
