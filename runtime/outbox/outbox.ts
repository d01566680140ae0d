import { randomBytes } from 'node:crypto';
import { RuntimeError } from '../errors.ts';
import { publicId } from '../instance-ids.ts';
import type { Clock } from '../ports.ts';
import type { DeliveryInfo } from '../observer.ts';
import { DEFAULT_DELIVERY_POLICY, policyProblem, type DeliveryPolicy } from './delivery-policy.ts';
import { patternProblem } from './event-filter.ts';
import { OutboxDispatcher, type OutboxHandler } from './outbox-dispatcher.ts';
import type { DeliveryRecord, DeliveryStatus, OutboxStore, SubscriptionRecord } from './outbox-ports.ts';
import { checkWebhookInput, type WebhookInput } from './subscription-input.ts';
import { fetchWebhook, type WebhookSender } from './webhook-sender.ts';
import { newWebhookSecret } from './webhook-signature.ts';

/** Outbox options of the runtime (`RuntimeOptions.outbox`). */
export interface OutboxOptions extends Partial<DeliveryPolicy> {
  /** Where subscriptions and deliveries live (default: the memory store's, when the runtime runs on one). */
  readonly store?: OutboxStore;
  /** How often due deliveries are claimed besides wake-ups (default: the runtime's poll interval). */
  readonly pollIntervalMs?: number;
  /** Deliveries in flight at once in this process (default 16). */
  readonly concurrency?: number;
  /** Sends webhook requests (default: `fetch`); tests swap it. */
  readonly sender?: WebhookSender;
  /** Source of the back-off jitter (default Math.random). */
  readonly random?: () => number;
}

/** A subscription as callers see it (never its secret). */
export interface SubscriptionView {
  id: string;
  kind: SubscriptionRecord['kind'];
  tenant: string | null;
  url: string | null;
  eventTypes: string[];
  description: string | null;
  createdAt: Date;
}

/** A delivery as callers see it: the instance by its public id. */
export type DeliveryView = Omit<DeliveryRecord, 'leaseOwner' | 'leaseUntil' | 'tenant'>;

/** Filters of {@link Outbox.deliveries}. */
export interface DeliveryListOptions {
  tenant: string;
  status?: DeliveryStatus[];
  subscriptionId?: string;
  /** Stored instance id (`runtime.deliveries` resolves a public one). */
  instanceId?: string;
  limit?: number;
  cursor?: string;
}

const HANDLER_NAME_RE = /^[A-Za-z0-9._-]{1,100}$/;

const subscriptionView = (s: SubscriptionRecord): SubscriptionView => ({
  id: s.id,
  kind: s.kind,
  tenant: s.tenant,
  url: s.url,
  eventTypes: [...s.eventTypes],
  description: s.description,
  createdAt: s.createdAt,
});

const deliveryView = ({ leaseOwner: _o, leaseUntil: _u, tenant, ...d }: DeliveryRecord): DeliveryView => ({
  ...d,
  instanceId: publicId(tenant, d.instanceId),
});

const encodeCursor = (d: DeliveryRecord) => Buffer.from(JSON.stringify([d.outboxId, d.id])).toString('base64url');

function decodeCursor(cursor: string): { outboxId: number; id: string } {
  try {
    const [outboxId, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [number, string];
    if (!Number.isSafeInteger(outboxId) || typeof id !== 'string') throw new Error('bad cursor');
    return { outboxId, id };
  } catch {
    throw RuntimeError.invalidArgument('outbox.deliveries', 'cursor is not one this runtime returned');
  }
}

/**
 * Outbox delivery (`runtime.outbox`): every emitted event (an `sk_outbox` row) reaches every subscription
 * matching it at least once, in order per instance. Subscriptions are webhooks (tenant-scoped, signed
 * Standard-Webhooks requests) or named in-process handlers.
 *
 * @example
 * ```ts
 * await runtime.outbox.subscribe('billing-sync', { eventTypes: ['invoice.*'] }, async (m) => billing.push(m.payload));
 * const { subscription, secret } = await runtime.outbox.createWebhook({ url: 'https://example.net/hooks' }, { tenant: 'acme' });
 * ```
 */
export class Outbox {
  private readonly handlers = new Map<string, OutboxHandler>();
  private readonly dispatcher?: OutboxDispatcher;
  readonly policy: DeliveryPolicy;

  constructor(
    private readonly o: {
      store?: OutboxStore;
      clock: Clock;
      owner: string;
      options: OutboxOptions;
      defaultPollMs: number;
      track: <T>(p: Promise<T>) => Promise<T>;
      onError: (e: unknown) => void;
      observe: (d: DeliveryInfo) => void;
    },
  ) {
    const opt = o.options;
    this.policy = {
      maxAttempts: opt.maxAttempts ?? DEFAULT_DELIVERY_POLICY.maxAttempts,
      backoffMs: opt.backoffMs ?? DEFAULT_DELIVERY_POLICY.backoffMs,
      maxBackoffMs: opt.maxBackoffMs ?? DEFAULT_DELIVERY_POLICY.maxBackoffMs,
      timeoutMs: opt.timeoutMs ?? DEFAULT_DELIVERY_POLICY.timeoutMs,
    };
    const problem = policyProblem(this.policy);
    if (problem) throw RuntimeError.invalidArgument('createRuntime', `outbox: ${problem}`);
    if (!o.store) return;
    this.dispatcher = new OutboxDispatcher({
      store: o.store,
      clock: o.clock,
      owner: o.owner,
      policy: this.policy,
      pollIntervalMs: opt.pollIntervalMs ?? o.defaultPollMs,
      concurrency: opt.concurrency ?? 16,
      sender: opt.sender ?? fetchWebhook,
      handlers: this.handlers,
      track: o.track,
      random: opt.random ?? Math.random,
      onError: o.onError,
      observe: o.observe,
    });
  }

  /** Whether deliveries are stored and made (a store was given). */
  get enabled(): boolean {
    return this.dispatcher !== undefined;
  }

  /**
   * Subscribes a named in-process handler: every outbox row committed from now on whose type matches reaches
   * it at least once, one instance's rows in order (a later row waits until the earlier one was handled or
   * dead-lettered). The subscription is durable: rows committed while no process handles it wait for one.
   * Returns the function that stops handling in this process.
   */
  async subscribe(name: string, filter: { eventTypes?: string[]; tenant?: string }, handler: OutboxHandler): Promise<() => void> {
    const store = this.storeOrThrow();
    if (!HANDLER_NAME_RE.test(name)) throw RuntimeError.invalidArgument('outbox.subscribe', 'name: 1-100 letters, digits, ".", "_" or "-"');
    const eventTypes = filter.eventTypes ?? ['*'];
    const problem = patternProblem(eventTypes);
    if (problem) throw RuntimeError.invalidArgument('outbox.subscribe', `eventTypes: ${problem}`);
    const id = `handler.${name}`;
    await store.saveSubscription({
      id,
      tenant: filter.tenant ?? null,
      kind: 'handler',
      url: null,
      eventTypes: [...eventTypes],
      secret: null,
      description: null,
      createdAt: this.o.clock.now(),
      deletedAt: null,
    });
    this.handlers.set(id, handler);
    this.dispatcher!.wake();
    return () => {
      if (this.handlers.get(id) === handler) this.handlers.delete(id);
    };
  }

  /** Creates a webhook subscription of a tenant; the secret (given or generated) is returned only here. */
  async createWebhook(input: WebhookInput, scope: { tenant: string }): Promise<{ subscription: SubscriptionView; secret: string }> {
    const store = this.storeOrThrow();
    checkWebhookInput(input);
    const secret = input.secret ?? newWebhookSecret();
    const saved = await store.saveSubscription({
      id: `sub_${randomBytes(16).toString('hex')}`,
      tenant: scope.tenant,
      kind: 'webhook',
      url: input.url,
      eventTypes: [...(input.eventTypes ?? ['*'])],
      secret,
      description: input.description ?? null,
      createdAt: this.o.clock.now(),
      deletedAt: null,
    });
    return { subscription: subscriptionView(saved), secret };
  }

  /** The tenant's live subscriptions, oldest first. */
  async subscriptions(scope: { tenant: string }): Promise<SubscriptionView[]> {
    return (await this.storeOrThrow().listSubscriptions(scope.tenant)).map(subscriptionView);
  }

  /** One live subscription of the tenant (`subscription_not_found` otherwise). */
  async subscription(id: string, scope: { tenant: string }): Promise<SubscriptionView> {
    return subscriptionView(await this.ownSubscription(id, scope.tenant));
  }

  /** Deletes a subscription: its pending deliveries are cancelled. */
  async deleteSubscription(id: string, scope: { tenant: string }): Promise<void> {
    await this.ownSubscription(id, scope.tenant);
    await this.storeOrThrow().deleteSubscription(id, this.o.clock.now());
  }

  /** Deliveries of the tenant in outbox order, with cursor pagination. */
  async deliveries(options: DeliveryListOptions): Promise<{ items: DeliveryView[]; nextCursor: string | null }> {
    const limit = options.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > 500)
      throw RuntimeError.invalidArgument('outbox.deliveries', 'limit must be 1..500');
    const rows = await this.storeOrThrow().listDeliveries({
      tenant: options.tenant,
      status: options.status,
      subscriptionId: options.subscriptionId,
      instanceId: options.instanceId,
      after: options.cursor ? decodeCursor(options.cursor) : undefined,
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    return { items: page.map(deliveryView), nextCursor: rows.length > limit ? encodeCursor(page.at(-1)!) : null };
  }

  /** One delivery of the tenant (`delivery_not_found` otherwise). */
  async delivery(id: string, scope: { tenant: string }): Promise<DeliveryView> {
    return deliveryView(await this.ownDelivery(id, scope.tenant));
  }

  /**
   * Delivers again a delivery that ended (dead-lettered, or delivered and wanted once more): pending, due now,
   * attempts from zero. It goes before the instance's later rows still pending for that subscription; rows
   * that were delivered meanwhile are not sent again. `delivery_pending` for one not ended yet.
   */
  async redeliver(id: string, scope: { tenant: string }): Promise<DeliveryView> {
    const d = await this.ownDelivery(id, scope.tenant);
    if (d.status === 'pending' || d.status === 'cancelled')
      throw new RuntimeError(
        'delivery_not_ended',
        `Delivery "${id}" is ${d.status}; only a delivered or dead-lettered delivery can be delivered again.`,
        { deliveryId: id, status: d.status },
      );
    const after = await this.storeOrThrow().redeliver(id, this.o.clock.now());
    this.dispatcher!.wake();
    return deliveryView(after!);
  }

  /** Start-up: takes back this owner's leases, then claims what is due. */
  async start(): Promise<void> {
    await this.dispatcher?.start();
  }

  /** A commit emitted, or another process announced deliveries: claim soon. */
  wake(): void {
    this.dispatcher?.wake();
  }

  /** Stops delivering; requests in flight are aborted and stay pending. */
  stop(): void {
    this.dispatcher?.stop();
  }

  /** Releases this process's delivery leases (after {@link stop} and the in-flight work settled). */
  async release(): Promise<void> {
    await this.o.store?.releaseDeliveryLeases(this.o.owner);
  }

  private storeOrThrow(): OutboxStore {
    if (!this.o.store)
      throw new RuntimeError('outbox_unavailable', 'Outbox delivery needs an outbox store: pass RuntimeOptions.outbox.store.');
    return this.o.store;
  }

  private async ownSubscription(id: string, tenant: string): Promise<SubscriptionRecord> {
    const s = await this.storeOrThrow().getSubscription(id);
    if (!s || s.tenant !== tenant || s.deletedAt)
      throw new RuntimeError('subscription_not_found', `Subscription "${id}" does not exist (or belongs to another tenant).`, {
        subscriptionId: id,
      });
    return s;
  }

  private async ownDelivery(id: string, tenant: string): Promise<DeliveryRecord> {
    const d = await this.storeOrThrow().getDelivery(id);
    if (!d || d.tenant !== tenant)
      throw new RuntimeError('delivery_not_found', `Delivery "${id}" does not exist (or belongs to another tenant).`, { deliveryId: id });
    return d;
  }
}
