import { matchesAny } from './event-filter.ts';
import type {
  AttemptOutcome,
  ClaimedDelivery,
  DeliveryFilter,
  DeliveryRecord,
  OutboxBacklog,
  OutboxStore,
  SubscriptionRecord,
} from './outbox-ports.ts';

const clone = <T>(v: T): T => (v === undefined ? v : structuredClone(v));

/** An outbox row of the memory store. */
export interface MemoryOutboxRow {
  id: number;
  instanceId: string;
  seq: number;
  type: string;
  payload: unknown;
  createdAt: Date;
  publishedAt: Date | null;
  attempts: number;
}

/**
 * Subscriptions and deliveries of simulation mode, with the rules of the Postgres store: delivery rows are
 * written with their outbox row ({@link fanOut}, called by `MemoryStore`'s commit), only the first pending
 * delivery of a (subscription, instance) pair is claimable, results count only under the lease.
 */
export class MemoryOutboxStore implements OutboxStore {
  private readonly subs = new Map<string, SubscriptionRecord>();
  private readonly rows = new Map<string, DeliveryRecord>();

  constructor(private readonly outbox: readonly MemoryOutboxRow[]) {}

  /** Writes the deliveries of a new outbox row for every live matching subscription (part of the commit). */
  fanOut(row: MemoryOutboxRow, tenant: string): void {
    for (const s of this.subs.values()) {
      if (s.deletedAt || (s.tenant !== null && s.tenant !== tenant) || !matchesAny(s.eventTypes, row.type)) continue;
      const id = `${row.id}-${s.id}`;
      this.rows.set(id, {
        id,
        outboxId: row.id,
        subscriptionId: s.id,
        instanceId: row.instanceId,
        tenant,
        eventType: row.type,
        status: 'pending',
        attempts: 0,
        nextAttemptAt: row.createdAt,
        leaseOwner: null,
        leaseUntil: null,
        lastError: null,
        lastStatus: null,
        deliveredAt: null,
        createdAt: row.createdAt,
        updatedAt: row.createdAt,
      });
    }
    if (!this.deliveriesOf(row.id).length) row.publishedAt = row.createdAt;
  }

  async saveSubscription(s: SubscriptionRecord): Promise<SubscriptionRecord> {
    const old = this.subs.get(s.id);
    const next = old && s.kind === 'handler' ? { ...old, tenant: s.tenant, eventTypes: [...s.eventTypes] } : clone(s);
    this.subs.set(s.id, next);
    return clone(next);
  }

  async getSubscription(id: string) {
    return clone(this.subs.get(id));
  }

  async listSubscriptions(tenant: string) {
    return clone([...this.subs.values()].filter((s) => s.tenant === tenant && !s.deletedAt));
  }

  async deleteSubscription(id: string, now: Date) {
    const s = this.subs.get(id);
    if (!s || s.deletedAt) return false;
    s.deletedAt = now;
    for (const d of this.rows.values())
      if (d.subscriptionId === id && d.status === 'pending') {
        Object.assign(d, { status: 'cancelled', leaseOwner: null, leaseUntil: null, nextAttemptAt: null, updatedAt: now });
        this.settleRow(d.outboxId, now);
      }
    return true;
  }

  async claimDeliveries(owner: string, handlers: readonly string[], now: Date, leaseUntil: Date, limit: number) {
    const pending = [...this.rows.values()].filter((d) => d.status === 'pending').sort((a, b) => a.outboxId - b.outboxId);
    // The first pending delivery of each (subscription, instance) pair: only it may be attempted.
    const heads = new Map<string, DeliveryRecord>();
    for (const d of pending)
      if (!heads.has(`${d.subscriptionId}\u0000${d.instanceId}`)) heads.set(`${d.subscriptionId}\u0000${d.instanceId}`, d);
    const due = [...heads.values()]
      .filter((d) => d.nextAttemptAt! <= now && !(d.leaseUntil && d.leaseUntil >= now))
      .filter((d) => {
        const s = this.subs.get(d.subscriptionId)!;
        return s.kind === 'webhook' || handlers.includes(s.id);
      })
      .sort((a, b) => a.nextAttemptAt!.getTime() - b.nextAttemptAt!.getTime() || a.outboxId - b.outboxId)
      .slice(0, limit);
    return due.map((d): ClaimedDelivery => {
      Object.assign(d, { leaseOwner: owner, leaseUntil, updatedAt: now });
      const row = this.outbox.find((o) => o.id === d.outboxId)!;
      return clone({ ...d, payload: row.payload, seq: row.seq, emittedAt: row.createdAt, subscription: this.subs.get(d.subscriptionId)! });
    });
  }

  async recordAttempt(id: string, owner: string, outcome: AttemptOutcome, now: Date) {
    const d = this.rows.get(id);
    if (d?.status !== 'pending' || d.leaseOwner !== owner) return false;
    const row = this.outbox.find((o) => o.id === d.outboxId)!;
    row.attempts += 1;
    Object.assign(d, {
      attempts: d.attempts + 1,
      status: outcome.status,
      lastStatus: outcome.httpStatus,
      leaseOwner: null,
      leaseUntil: null,
      updatedAt: now,
      ...(outcome.status === 'delivered'
        ? { deliveredAt: now, nextAttemptAt: null }
        : { lastError: outcome.error, nextAttemptAt: outcome.nextAttemptAt }),
    });
    this.settleRow(d.outboxId, now);
    return true;
  }

  async getDelivery(id: string) {
    return clone(this.rows.get(id));
  }

  async listDeliveries(f: DeliveryFilter) {
    const rows = [...this.rows.values()]
      .filter(
        (d) =>
          d.tenant === f.tenant &&
          (!f.status?.length || f.status.includes(d.status)) &&
          (!f.subscriptionId || d.subscriptionId === f.subscriptionId) &&
          (!f.instanceId || d.instanceId === f.instanceId) &&
          (!f.after || d.outboxId > f.after.outboxId || (d.outboxId === f.after.outboxId && d.id > f.after.id)),
      )
      .sort((a, b) => a.outboxId - b.outboxId || (a.id < b.id ? -1 : 1));
    return clone(rows.slice(0, f.limit));
  }

  async redeliver(id: string, now: Date) {
    const d = this.rows.get(id);
    if (d && (d.status === 'delivered' || d.status === 'dead')) {
      Object.assign(d, { status: 'pending', attempts: 0, nextAttemptAt: now, deliveredAt: null, updatedAt: now });
      const row = this.outbox.find((o) => o.id === d.outboxId);
      if (row) row.publishedAt = null;
    }
    return clone(d);
  }

  async releaseDeliveryLeases(owner: string) {
    for (const d of this.rows.values())
      if (d.leaseOwner === owner && d.status === 'pending') Object.assign(d, { leaseOwner: null, leaseUntil: null });
  }

  async backlog(now: Date): Promise<OutboxBacklog> {
    const pending = [...this.rows.values()].filter((d) => d.status === 'pending');
    const oldest = Math.min(...pending.map((d) => d.createdAt.getTime()));
    return { pending: pending.length, oldestPendingMs: pending.length ? Math.max(0, now.getTime() - oldest) : 0 };
  }

  /** True while a delivery of the instance is pending (retention leaves such an instance alone). */
  hasPending(instanceId: string): boolean {
    return [...this.rows.values()].some((d) => d.instanceId === instanceId && d.status === 'pending');
  }

  /** Removes the deliveries of these instances (retention), returning them. */
  removeInstances(ids: ReadonlySet<string>): DeliveryRecord[] {
    const removed = [...this.rows.values()].filter((d) => ids.has(d.instanceId));
    for (const d of removed) this.rows.delete(d.id);
    return removed;
  }

  private deliveriesOf(outboxId: number): DeliveryRecord[] {
    return [...this.rows.values()].filter((d) => d.outboxId === outboxId);
  }

  /** An outbox row is published once none of its deliveries is pending. */
  private settleRow(outboxId: number, now: Date): void {
    const row = this.outbox.find((o) => o.id === outboxId);
    if (row && !this.deliveriesOf(outboxId).some((d) => d.status === 'pending')) row.publishedAt ??= now;
  }
}
