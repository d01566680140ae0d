import type { EffectExecutor } from './effect-executor.ts';
import type { InstanceCache } from './instance-cache.ts';
import type { Clock, EffectRecord, InstanceStore } from './ports.ts';
import type { RuntimeObserver } from './observer.ts';

// Year 9999: later than any timer, and still a timestamp PostgreSQL accepts.
const MAX_DATE_MS = Date.UTC(9999, 11, 31);

/** Instances without an event for this long leave memory. */
const IDLE_EVICT_MS = 5 * 60_000;

/** Wake-ups arriving together (several processes releasing leases at once) make one round. */
const WAKE_DEBOUNCE_MS = 20;

/** Options of {@link EffectPoller}. */
export interface EffectPollerOptions {
  readonly store: InstanceStore;
  readonly clock: Clock;
  /** This process's lease owner id. */
  readonly owner: string;
  readonly executor: EffectExecutor;
  readonly instances: InstanceCache;
  /** How often due work is claimed from the store (0 disables polling). */
  readonly pollIntervalMs: number;
  /** Timers due within this window are claimed and armed in memory. */
  readonly timerHorizonMs: number;
  /** Lease length of a claim (renewed by the heartbeat while this process works on the effect). */
  readonly leaseMs: number;
  readonly onError: (e: unknown) => void;
  readonly observer: Required<RuntimeObserver>;
}

/**
 * Recovery and the poll loop: claims due or orphaned effects (a crashed
 * process's steps, timers coming due, deliveries not yet made) and finished
 * children whose result has not reached their parent, and hands them to the
 * executor. The store's rows are the truth: nothing is re-armed by hand.
 */
export class EffectPoller {
  private stopPoll?: () => void;
  private stopped = false;
  private running = false;
  /** A wake-up arrived during a round: run another one right after it. */
  private again = false;
  private stopWake?: () => void;

  constructor(private readonly o: EffectPollerOptions) {}

  /** Start-up recovery, then the periodic poll. */
  async start(): Promise<void> {
    // A predecessor with our owner id is dead (we are it, restarted): its leases are ours to take back.
    await this.o.store.releaseLeases(this.o.owner);
    await this.poll();
  }

  /**
   * Runs a round soon (debounced) instead of at the next interval: another
   * process announced work to claim (released leases) or announcements were lost.
   */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.stopWake ??= this.o.clock.schedule(WAKE_DEBOUNCE_MS, () => {
      this.stopWake = undefined;
      void this.poll();
    });
  }

  /** One round: claim due effects, report finished children, evict idle instances; schedules the next round. */
  async poll(): Promise<void> {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    // This round replaces the scheduled one: a single chain of rounds, whoever started it.
    this.stopPoll?.();
    this.stopPoll = undefined;
    try {
      await this.round();
    } catch (e) {
      this.o.onError(e);
    } finally {
      this.running = false;
      if (!this.stopped && this.o.pollIntervalMs > 0) this.stopPoll = this.o.clock.schedule(this.o.pollIntervalMs, () => void this.poll());
      if (this.again) {
        this.again = false;
        this.wake();
      }
    }
  }

  /** One round now, outside the schedule (a resumed instance's due work is dispatched without waiting for the next poll). */
  async dispatchDue(): Promise<void> {
    if (!this.stopped) await this.round();
  }

  private async round(): Promise<void> {
    const now = this.o.clock.now();
    // An infinite horizon (simulation) means "every timer": clamp to the latest representable date.
    const until = (ms: number) => new Date(Math.min(now.getTime() + ms, MAX_DATE_MS));
    const claimed = await this.o.store.claimDue(this.o.owner, now, until(this.o.timerHorizonMs), until(this.o.leaseMs), 200);
    if (claimed.length) this.report(claimed);
    for (const effect of claimed) this.o.executor.run(effect);
    for (const { effect, child } of await this.o.store.finishedChildren(200)) this.o.executor.reportToParent(child, effect);
    // Memory follows activity: an instance idle for a while is reloaded from Postgres when next needed.
    this.o.instances.evictOlderThan(IDLE_EVICT_MS);
  }

  /** Tells the observer what was claimed; a lease another process let expire is a takeover. */
  private report(claimed: EffectRecord[]): void {
    const { owner } = this.o;
    this.o.observer.claimed({
      owner,
      effects: claimed.map((e) => ({
        id: e.id,
        instanceId: e.instanceId,
        kind: e.kind,
        name: e.name,
        takeover: e.previousOwner != null && e.previousOwner !== owner,
      })),
    });
  }

  /** Stops polling. */
  stop(): void {
    this.stopped = true;
    this.stopPoll?.();
    this.stopWake?.();
  }
}
