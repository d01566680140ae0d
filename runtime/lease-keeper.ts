import type { Clock, InstanceStore } from './ports.ts';

/** Default lease length: a process that dies holding effects has them taken over this long after its last renewal. */
export const DEFAULT_LEASE_MS = 4_000;

/** Options of {@link LeaseKeeper}. */
export interface LeaseKeeperOptions {
  readonly store: InstanceStore;
  readonly clock: Clock;
  /** This process's lease owner id. */
  readonly owner: string;
  /** How long a lease lasts from its last renewal. */
  readonly leaseMs: number;
  /** How often the leases of held effects are renewed (0: never, for a single process on a simulated clock). */
  readonly heartbeatMs: number;
  /**
   * The open effects this process works on right now (running steps, armed timers, deliveries), by id, each
   * with the in-memory entry holding it: a lost lease drops that entry only, not a newer one for the same id.
   */
  readonly held: () => Map<string, object>;
  /** Effects another process holds now (it took them over) or that were closed meanwhile, with their entries. */
  readonly lost: (entries: Map<string, object>) => void;
  readonly onError: (e: unknown) => void;
}

/**
 * The heartbeat: every `heartbeatMs` one statement extends the leases of the
 * effects this process is working on to `now + leaseMs`. A process that dies
 * stops renewing, and its effects become claimable by any other process's poll
 * round at most `leaseMs` after its last renewal; a long-running step keeps
 * its lease for as long as its process lives.
 *
 * @remarks Only effects held in memory are renewed, not every row leased to
 * this owner: an effect this process dropped (its result's commit failed, a
 * delivery threw) lapses and is claimed again, by this process or another.
 * An effect that was not renewed because another process took it over (this
 * one stalled past its lease) is reported as lost, and its attempt here is
 * dropped; whichever result commits first counts, the commit fencing the other
 * by the effect's open status and the instance version.
 */
export class LeaseKeeper {
  private cancel?: () => void;
  private stopped = false;
  private beating = false;

  constructor(private readonly o: LeaseKeeperOptions) {}

  /** Starts the heartbeat (no-op when `heartbeatMs` is 0). */
  start(): void {
    if (this.o.heartbeatMs > 0 && !this.stopped && !this.cancel) this.schedule();
  }

  /** Stops renewing (a graceful stop releases the leases instead). */
  stop(): void {
    this.stopped = true;
    this.cancel?.();
    this.cancel = undefined;
  }

  /** The lease end of an effect taken or renewed now. */
  leaseUntil(now: Date): Date {
    return new Date(now.getTime() + this.o.leaseMs);
  }

  /** One renewal now; resolves with the ids that were lost. */
  async beat(): Promise<string[]> {
    const held = this.o.held();
    if (!held.size) return [];
    const now = this.o.clock.now();
    const renewed = new Set(await this.o.store.renewLeases(this.o.owner, [...held.keys()], this.leaseUntil(now), now));
    for (const id of renewed) held.delete(id);
    if (held.size && !this.stopped) this.o.lost(held);
    return [...held.keys()];
  }

  private schedule(): void {
    // A fixed cadence, whatever a renewal takes; a renewal still running when the next is due is not doubled.
    this.cancel = this.o.clock.schedule(this.o.heartbeatMs, () => {
      if (this.stopped) return;
      this.schedule();
      if (this.beating) return;
      this.beating = true;
      this.beat()
        .catch(this.o.onError)
        .finally(() => (this.beating = false));
    });
  }
}
