/**
 * Delivery ids already accepted from each webhook source, kept for the source's replay window: a signed
 * request delivered again (a replay by whoever captured it, or the sender retrying) is refused instead of
 * being applied twice.
 */
export interface WebhookDeliveryStore {
  /**
   * Records `deliveryId` of `source` until `expiresAt`; false when it is recorded already and not expired
   * (a replay). Atomic: of two concurrent claims of one id, one wins.
   */
  claim(source: string, deliveryId: string, now: Date, expiresAt: Date): Promise<boolean>;
  /** Forgets a claimed id whose delivery failed, so the sender's retry is taken. */
  release(source: string, deliveryId: string): Promise<void>;
}

/** In memory: for simulation mode and tests (a restart forgets every id). */
export class MemoryWebhookDeliveryStore implements WebhookDeliveryStore {
  private readonly seen = new Map<string, number>();

  async claim(source: string, deliveryId: string, now: Date, expiresAt: Date): Promise<boolean> {
    for (const [k, until] of this.seen) if (until <= now.getTime()) this.seen.delete(k);
    const k = `${source}\u0000${deliveryId}`;
    if (this.seen.has(k)) return false;
    this.seen.set(k, expiresAt.getTime());
    return true;
  }

  async release(source: string, deliveryId: string): Promise<void> {
    this.seen.delete(`${source}\u0000${deliveryId}`);
  }
}
