/**
 * The outbox delivery port: subscriptions and delivery rows, kept by the same
 * store that commits the outbox rows (the commit writes a delivery row for
 * every live subscription matching the row, in the same transaction).
 * Implemented by `MemoryOutboxStore` (simulation) and `PgOutboxStore`.
 */

/** A webhook (an HTTPS or HTTP endpoint) or a named in-process handler (`runtime.outbox.subscribe`). */
export type SubscriptionKind = 'webhook' | 'handler';

/** A stored subscription. */
export interface SubscriptionRecord {
  /** `sub_<32 hex>` for webhooks, `handler.<name>` for in-process handlers. */
  id: string;
  /** Only this tenant's outbox rows; null (handlers only): every tenant's. */
  tenant: string | null;
  kind: SubscriptionKind;
  /** The webhook's endpoint (null for handlers). */
  url: string | null;
  /** Event type patterns: `*`, an exact type, or a prefix ending in `.*` (see `event-filter.ts`). */
  eventTypes: string[];
  /**
   * The webhook's signing secret (`whsec_…`) as stored: a string, or a sealed value when secrets are
   * encrypted at rest (the store decorator opens it again). Null for handlers.
   */
  secret: unknown;
  description: string | null;
  createdAt: Date;
  deletedAt: Date | null;
}

/**
 * `pending` (to deliver, possibly after a back-off), `delivered` (a 2xx answer, or the handler resolved),
 * `dead` (its attempts ran out: dead-lettered), `cancelled` (its subscription was deleted before it ended).
 */
export type DeliveryStatus = 'pending' | 'delivered' | 'dead' | 'cancelled';

/** One outbox row's delivery to one subscription. */
export interface DeliveryRecord {
  /** `<outbox id>-<subscription id>`: also the `webhook-id` header, the same on every attempt. */
  id: string;
  outboxId: number;
  subscriptionId: string;
  /** Stored instance id (see `instance-ids.ts`). */
  instanceId: string;
  tenant: string;
  eventType: string;
  status: DeliveryStatus;
  /** Attempts whose outcome was recorded (an attempt cut short by a crash is made again and not counted). */
  attempts: number;
  /** When the next attempt is due (pending only). */
  nextAttemptAt: Date | null;
  leaseOwner: string | null;
  leaseUntil: Date | null;
  lastError: string | null;
  /** HTTP status of the last answer, if one came. */
  lastStatus: number | null;
  deliveredAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** A claimed delivery with what sending it needs: the outbox row and the subscription. */
export interface ClaimedDelivery extends DeliveryRecord {
  /** The emitted event as the machine emitted it (secret fields opened again by the store decorator). */
  payload: unknown;
  /** Instance version whose commit wrote the row. */
  seq: number;
  /** When the row was committed. */
  emittedAt: Date;
  subscription: SubscriptionRecord;
}

/** How an attempt ended, as recorded. */
export type AttemptOutcome =
  | { status: 'delivered'; httpStatus: number | null }
  | { status: 'pending' | 'dead'; error: string; httpStatus: number | null; nextAttemptAt: Date | null };

/** Filters of {@link OutboxStore.listDeliveries}; results are in outbox order (oldest first). */
export interface DeliveryFilter {
  tenant: string;
  status?: DeliveryStatus[];
  subscriptionId?: string;
  /** Stored instance id. */
  instanceId?: string;
  /** Only deliveries after this one (outbox id, then id): the cursor of the previous page. */
  after?: { outboxId: number; id: string };
  limit: number;
}

/** Backlog figures for the lag gauges. */
export interface OutboxBacklog {
  pending: number;
  /** Age in ms of the oldest pending delivery's outbox row (0 when none). */
  oldestPendingMs: number;
}

/** Storage of subscriptions and deliveries. */
export interface OutboxStore {
  /** Inserts a subscription; for a handler (same id) already stored, updates its filter and tenant instead. */
  saveSubscription(s: SubscriptionRecord): Promise<SubscriptionRecord>;
  getSubscription(id: string): Promise<SubscriptionRecord | undefined>;
  /** Live subscriptions of a tenant, oldest first. */
  listSubscriptions(tenant: string): Promise<SubscriptionRecord[]>;
  /** Marks it deleted and cancels its pending deliveries; false when unknown or deleted already. */
  deleteSubscription(id: string, now: Date): Promise<boolean>;
  /**
   * Leases up to `limit` due pending deliveries to `owner` until `leaseUntil`: webhooks, and handlers whose
   * subscription id is in `handlers`. Only the first pending delivery of each (subscription, instance) pair
   * is ever claimable, so one instance's rows reach one subscription in order, one at a time.
   */
  claimDeliveries(owner: string, handlers: readonly string[], now: Date, leaseUntil: Date, limit: number): Promise<ClaimedDelivery[]>;
  /**
   * Records an attempt (attempts + 1) while `owner` still holds the lease; sets the outbox row's attempts and,
   * once none of its deliveries is pending, its `published_at`. False when the lease was lost.
   */
  recordAttempt(id: string, owner: string, outcome: AttemptOutcome, now: Date): Promise<boolean>;
  getDelivery(id: string): Promise<DeliveryRecord | undefined>;
  listDeliveries(filter: DeliveryFilter): Promise<DeliveryRecord[]>;
  /**
   * Makes an ended (delivered or dead) delivery pending again, due now, with its attempts reset; the outbox
   * row is unpublished again. Returns the row as it is after the call (unchanged when it was not ended).
   */
  redeliver(id: string, now: Date): Promise<DeliveryRecord | undefined>;
  /** Releases the delivery leases of `owner` (graceful stop, restart under the same owner id). */
  releaseDeliveryLeases(owner: string): Promise<void>;
  backlog(now: Date): Promise<OutboxBacklog>;
}
