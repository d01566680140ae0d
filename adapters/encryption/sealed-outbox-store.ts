import type { AttemptOutcome, DeliveryFilter, OutboxStore, SubscriptionRecord } from '../../runtime/outbox/outbox-ports.ts';
import type { SecretFields } from './secret-fields.ts';

/**
 * An {@link OutboxStore} that keeps webhook secrets encrypted at rest (they sign requests, so they cannot be
 * hashed) and opens what the machines' secret fields sealed in outbox payloads before a delivery sends them.
 *
 * @remarks The companion of `SealedStore`: that one seals outbox payloads on the way in, this one opens them
 * on the way out, so plaintext exists only in the delivering process.
 *
 * @example
 * ```ts
 * const outbox = new SealedOutboxStore(new PgOutboxStore(orm, store.origin), new SecretFields(cipher));
 * ```
 */
export class SealedOutboxStore implements OutboxStore {
  constructor(
    private readonly inner: OutboxStore,
    private readonly fields: SecretFields,
  ) {}

  async saveSubscription(s: SubscriptionRecord): Promise<SubscriptionRecord> {
    const secret = s.secret === null || s.secret === undefined ? null : this.fields.seal(s.secret, 'all');
    return this.open(await this.inner.saveSubscription({ ...s, secret }));
  }

  async getSubscription(id: string) {
    const s = await this.inner.getSubscription(id);
    return s && this.open(s);
  }

  async listSubscriptions(tenant: string) {
    return (await this.inner.listSubscriptions(tenant)).map((s) => this.open(s));
  }

  deleteSubscription(id: string, now: Date) {
    return this.inner.deleteSubscription(id, now);
  }

  async claimDeliveries(owner: string, handlers: readonly string[], now: Date, leaseUntil: Date, limit: number) {
    const claimed = await this.inner.claimDeliveries(owner, handlers, now, leaseUntil, limit);
    return claimed.map((d) => ({ ...d, payload: this.fields.open(d.payload), subscription: this.open(d.subscription) }));
  }

  recordAttempt(id: string, owner: string, outcome: AttemptOutcome, now: Date) {
    return this.inner.recordAttempt(id, owner, outcome, now);
  }

  getDelivery(id: string) {
    return this.inner.getDelivery(id);
  }

  listDeliveries(filter: DeliveryFilter) {
    return this.inner.listDeliveries(filter);
  }

  redeliver(id: string, now: Date) {
    return this.inner.redeliver(id, now);
  }

  releaseDeliveryLeases(owner: string) {
    return this.inner.releaseDeliveryLeases(owner);
  }

  backlog(now: Date) {
    return this.inner.backlog(now);
  }

  private open(s: SubscriptionRecord): SubscriptionRecord {
    return { ...s, secret: this.fields.open(s.secret) };
  }
}
