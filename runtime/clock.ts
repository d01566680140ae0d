import type { Clock } from './ports.ts';

// setTimeout overflows past 2^31-1 ms (~24.8 days); longer waits are re-armed in hops.
const MAX_TIMEOUT = 2_147_483_647;

/** The wall clock. */
export const systemClock: Clock = {
  now: () => new Date(),
  schedule(ms, fn) {
    let handle: NodeJS.Timeout;
    const due = Date.now() + Math.max(0, ms);
    const arm = () => {
      const left = due - Date.now();
      handle = setTimeout(left > MAX_TIMEOUT ? arm : fn, Math.min(Math.max(0, left), MAX_TIMEOUT));
      handle.unref?.();
    };
    arm();
    return () => clearTimeout(handle);
  },
};

interface Scheduled {
  at: number;
  seq: number;
  fn: () => void;
}

/**
 * A clock that only moves when told to: `advance(ms)` runs every callback due
 * in that window in time order, letting the runtime settle between them, so a
 * simulation skips days in milliseconds.
 */
export class SimulatedClock implements Clock {
  private current: number;
  private queue: Scheduled[] = [];
  private seq = 0;

  constructor(start: Date | number = Date.UTC(2030, 0, 1)) {
    this.current = typeof start === 'number' ? start : start.getTime();
  }

  now(): Date {
    return new Date(this.current);
  }

  schedule(ms: number, fn: () => void): () => void {
    const entry: Scheduled = { at: this.current + Math.max(0, ms), seq: this.seq++, fn };
    this.queue.push(entry);
    return () => {
      this.queue = this.queue.filter((e) => e !== entry);
    };
  }

  /** Number of callbacks waiting. */
  get pending(): number {
    return this.queue.length;
  }

  /** Time of the next scheduled callback, if any. */
  nextAt(): Date | undefined {
    const next = this.earliest();
    return next ? new Date(next.at) : undefined;
  }

  /**
   * Moves time forward by `ms`, running due callbacks in order; `settle` is
   * awaited after each one so the work it starts can schedule more.
   */
  async advance(ms: number, settle: () => Promise<void> = async () => {}): Promise<void> {
    const target = this.current + Math.max(0, ms);
    await settle();
    for (;;) {
      const next = this.earliest();
      if (!next || next.at > target) break;
      this.queue = this.queue.filter((e) => e !== next);
      this.current = Math.max(this.current, next.at);
      next.fn();
      await settle();
    }
    this.current = target;
  }

  private earliest(): Scheduled | undefined {
    let best: Scheduled | undefined;
    for (const e of this.queue) if (!best || e.at < best.at || (e.at === best.at && e.seq < best.seq)) best = e;
    return best;
  }
}
