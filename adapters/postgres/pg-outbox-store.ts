import type { MikroORM } from '@mikro-orm/postgresql';
import type {
  AttemptOutcome,
  ClaimedDelivery,
  DeliveryFilter,
  DeliveryRecord,
  OutboxBacklog,
  OutboxStore,
  SubscriptionRecord,
} from '../../runtime/outbox/outbox-ports.ts';
import { json, ts } from './sql-values.ts';
import { encodeWakeup, WAKEUP_CHANNEL } from './pg-notifier.ts';
import type { Row } from './rows.ts';

const date = (v: unknown): Date => (v instanceof Date ? v : new Date(String(v)));
const dateOrNull = (v: unknown): Date | null => (v == null ? null : date(v));

function toSubscription(r: Row): SubscriptionRecord {
  return {
    id: String(r.id),
    tenant: (r.tenant as string) ?? null,
    kind: r.kind as SubscriptionRecord['kind'],
    url: (r.url as string) ?? null,
    eventTypes: (r.event_types as string[]) ?? [],
    secret: r.secret ?? null,
    description: (r.description as string) ?? null,
    createdAt: date(r.created_at),
    deletedAt: dateOrNull(r.deleted_at),
  };
}

function toDelivery(r: Row): DeliveryRecord {
  return {
    id: String(r.id),
    outboxId: Number(r.outbox_id),
    subscriptionId: String(r.subscription_id),
    instanceId: String(r.instance_id),
    tenant: String(r.tenant),
    eventType: String(r.event_type),
    status: r.status as DeliveryRecord['status'],
    attempts: Number(r.attempts),
    nextAttemptAt: dateOrNull(r.next_attempt_at),
    leaseOwner: (r.lease_owner as string) ?? null,
    leaseUntil: dateOrNull(r.lease_until),
    lastError: (r.last_error as string) ?? null,
    lastStatus: r.last_status == null ? null : Number(r.last_status),
    deliveredAt: dateOrNull(r.delivered_at),
    createdAt: date(r.created_at),
    updatedAt: date(r.updated_at),
  };
}

/**
 * Claims the first pending delivery of each (subscription, instance) pair that is due and not leased by a live
 * owner: an earlier pending row of the pair (leased, backing off, or locked by a concurrent claim) excludes the
 * later ones, so one instance's rows go to one subscription one at a time, in outbox order. SKIP LOCKED lets
 * several processes claim at once without waiting on each other or taking the same row.
 */
const CLAIM_SQL = `with due as (
    select d.id from sk_delivery d join sk_subscription s on s.id = d.subscription_id
    where d.status = 'pending' and d.next_attempt_at <= ?::timestamptz
      and (d.lease_until is null or d.lease_until < ?::timestamptz)
      and (s.kind = 'webhook' or s.id in (select jsonb_array_elements_text(?::jsonb)))
      and not exists (select 1 from sk_delivery e where e.subscription_id = d.subscription_id and e.instance_id = d.instance_id
        and e.status = 'pending' and e.outbox_id < d.outbox_id)
    order by d.next_attempt_at, d.outbox_id limit ? for update of d skip locked
  ), claimed as (
    update sk_delivery d set lease_owner = ?, lease_until = ?::timestamptz, updated_at = ?::timestamptz from due where d.id = due.id
    returning d.*
  )
  select to_jsonb(c) as delivery, o.payload, o.seq, o.created_at as emitted_at, to_jsonb(s) as subscription
  from claimed c join sk_outbox o on o.id = c.outbox_id join sk_subscription s on s.id = c.subscription_id
  order by c.next_attempt_at, c.outbox_id`;

/**
 * Subscriptions and deliveries on PostgreSQL (`sk_subscription`, `sk_delivery`). The delivery rows themselves
 * are written by the commit statement with their outbox rows (`commit-sql.ts`); this store claims, records
 * and lists them.
 */
export class PgOutboxStore implements OutboxStore {
  /** @param origin the instance store's origin (`PgInstanceStore.origin`): this process skips its own announcements. */
  constructor(
    private readonly orm: MikroORM,
    private readonly origin = 'outbox',
  ) {}

  private async rows(sql: string, params: unknown[]): Promise<Row[]> {
    return (await this.orm.em.getConnection().execute(sql, params, 'all')) as Row[];
  }

  async saveSubscription(s: SubscriptionRecord): Promise<SubscriptionRecord> {
    // A handler subscribing again (a restart, a new filter) keeps its row, so its pending deliveries stay its own.
    const [row] = await this.rows(
      `insert into sk_subscription (id, tenant, kind, url, event_types, secret, description, created_at, deleted_at)
       values (?, ?, ?, ?, ?::jsonb, ?::jsonb, ?, ?::timestamptz, null)
       on conflict (id) do update set tenant = excluded.tenant, event_types = excluded.event_types, deleted_at = null
         where sk_subscription.kind = 'handler'
       returning *`,
      [s.id, s.tenant, s.kind, s.url, JSON.stringify(s.eventTypes), json(s.secret), s.description, ts(s.createdAt)],
    );
    if (!row) throw new Error(`subscription id ${s.id} is taken`);
    return toSubscription(row);
  }

  async getSubscription(id: string): Promise<SubscriptionRecord | undefined> {
    const [row] = await this.rows(`select * from sk_subscription where id = ?`, [id]);
    return row ? toSubscription(row) : undefined;
  }

  async listSubscriptions(tenant: string): Promise<SubscriptionRecord[]> {
    const rows = await this.rows(`select * from sk_subscription where tenant = ? and deleted_at is null order by created_at, id`, [tenant]);
    return rows.map(toSubscription);
  }

  async deleteSubscription(id: string, now: Date): Promise<boolean> {
    // One statement: the subscription, its pending deliveries, and the rows that had nothing else pending.
    // The outbox check reads the snapshot before the cancellation, hence "another subscription's" pending row.
    const [r] = await this.rows(
      `with s as (
         update sk_subscription set deleted_at = ?::timestamptz where id = ? and deleted_at is null returning id
       ), c as (
         update sk_delivery d set status = 'cancelled', lease_owner = null, lease_until = null, next_attempt_at = null,
           updated_at = ?::timestamptz
         from s where d.subscription_id = s.id and d.status = 'pending' returning d.outbox_id
       ), p as (
         update sk_outbox o set published_at = ?::timestamptz
         where o.id in (select outbox_id from c) and o.published_at is null
           and not exists (select 1 from sk_delivery x where x.outbox_id = o.id and x.status = 'pending' and x.subscription_id <> ?)
       )
       select count(*)::int as n from s`,
      [ts(now), id, ts(now), ts(now), id],
    );
    return Number(r?.n ?? 0) > 0;
  }

  async claimDeliveries(owner: string, handlers: readonly string[], now: Date, leaseUntil: Date, limit: number) {
    const rows = await this.rows(CLAIM_SQL, [ts(now), ts(now), JSON.stringify(handlers), limit, owner, ts(leaseUntil), ts(now)]);
    return rows.map(
      (r): ClaimedDelivery => ({
        ...toDelivery(r.delivery as Row),
        payload: r.payload,
        seq: Number(r.seq),
        emittedAt: date(r.emitted_at),
        subscription: toSubscription(r.subscription as Row),
      }),
    );
  }

  async recordAttempt(id: string, owner: string, outcome: AttemptOutcome, now: Date): Promise<boolean> {
    const error = outcome.status === 'delivered' ? null : outcome.error;
    const next = outcome.status === 'delivered' ? null : outcome.nextAttemptAt;
    return this.orm.em.fork().transactional(async (tx) => {
      // The delivery and its outbox row are locked first, under the lease (a lost lease records nothing), so the
      // attempts of one row's deliveries end one after another. The second statement then starts after every earlier
      // one is committed and sees whether another delivery of the row is still pending: the delivery that ends last
      // publishes the row in its own transaction, and a process killed right after leaves no ended row unpublished.
      // Locks are taken delivery first, then outbox row (in the order listed), as cancelling and redelivering do.
      const locked = await tx.execute(
        `select o.id from sk_delivery d join sk_outbox o on o.id = d.outbox_id
         where d.id = ? and d.lease_owner = ? and d.status = 'pending' for update of d, o`,
        [id, owner],
        'all',
      );
      if (locked.length === 0) return false;
      const recorded = await tx.execute(
        `with d as (
           update sk_delivery set status = ?, attempts = attempts + 1, last_status = ?, last_error = coalesce(?, last_error),
             next_attempt_at = ?::timestamptz, delivered_at = case when ? = 'delivered' then ?::timestamptz else delivered_at end,
             lease_owner = null, lease_until = null, updated_at = ?::timestamptz
           where id = ? and lease_owner = ? and status = 'pending'
           returning id, outbox_id, status
         )
         update sk_outbox o set attempts = o.attempts + 1,
           published_at = case when d.status <> 'pending' and o.published_at is null and not exists (select 1 from sk_delivery x
             where x.outbox_id = o.id and x.status = 'pending' and x.id <> d.id) then ?::timestamptz else o.published_at end
         from d where o.id = d.outbox_id
         returning o.id`,
        [outcome.status, outcome.httpStatus, error, ts(next), outcome.status, ts(now), ts(now), id, owner, ts(now)],
        'all',
      );
      return recorded.length > 0;
    });
  }

  async getDelivery(id: string): Promise<DeliveryRecord | undefined> {
    const [row] = await this.rows(`select * from sk_delivery where id = ?`, [id]);
    return row ? toDelivery(row) : undefined;
  }

  async listDeliveries(f: DeliveryFilter): Promise<DeliveryRecord[]> {
    const where = ['tenant = ?'];
    const params: unknown[] = [f.tenant];
    const add = (cond: string, ...values: unknown[]) => (where.push(cond), params.push(...values));
    if (f.status?.length) add(`status in (select jsonb_array_elements_text(?::jsonb))`, JSON.stringify(f.status));
    if (f.subscriptionId) add('subscription_id = ?', f.subscriptionId);
    if (f.instanceId) add('instance_id = ?', f.instanceId);
    if (f.after) add('(outbox_id, id) > (?, ?)', f.after.outboxId, f.after.id);
    params.push(f.limit);
    const rows = await this.rows(`select * from sk_delivery where ${where.join(' and ')} order by outbox_id, id limit ?`, params);
    return rows.map(toDelivery);
  }

  async redeliver(id: string, now: Date): Promise<DeliveryRecord | undefined> {
    await this.rows(
      `with d as (
         update sk_delivery set status = 'pending', attempts = 0, next_attempt_at = ?::timestamptz, delivered_at = null,
           updated_at = ?::timestamptz
         where id = ? and status in ('delivered', 'dead') returning outbox_id
       ), o as (
         update sk_outbox set published_at = null from d where sk_outbox.id = d.outbox_id
       )
       select pg_notify(?, ?) from d`,
      [ts(now), ts(now), id, WAKEUP_CHANNEL, encodeWakeup(this.origin, { kind: 'deliveries' })],
    );
    return this.getDelivery(id);
  }

  async releaseDeliveryLeases(owner: string): Promise<void> {
    // The other processes are told in the same statement that these deliveries can be claimed now.
    await this.rows(
      `with released as (
         update sk_delivery set lease_owner = null, lease_until = null where lease_owner = ? and status = 'pending' returning 1
       )
       select pg_notify(?, ?) from (select 1 from released limit 1) r`,
      [owner, WAKEUP_CHANNEL, encodeWakeup(this.origin, { kind: 'deliveries' })],
    );
  }

  async backlog(now: Date): Promise<OutboxBacklog> {
    const [r] = await this.rows(`select count(*)::int as n, min(created_at) as oldest from sk_delivery where status = 'pending'`, []);
    const oldest = r?.oldest ? date(r.oldest).getTime() : undefined;
    return { pending: Number(r?.n ?? 0), oldestPendingMs: oldest === undefined ? 0 : Math.max(0, now.getTime() - oldest) };
  }
}
