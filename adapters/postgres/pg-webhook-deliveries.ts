import type { MikroORM } from '@mikro-orm/postgresql';
import type { WebhookDeliveryStore } from '../../api/webhooks/deliveries.ts';

/**
 * Claims a delivery id in one statement: a new id is inserted, an expired one taken over, a live one
 * refused (no row returned). The same statement sweeps up to 100 other expired rows, so the table holds
 * about one replay window of deliveries without a job of its own; the id being claimed is left out of the
 * sweep, so no row is touched twice by the statement.
 */
const CLAIM_SQL = `with swept as (
  delete from sk_webhook_delivery where ctid in (
    select ctid from sk_webhook_delivery where expires_at <= ?::timestamptz and not (source = ? and delivery_id = ?) limit 100)
)
insert into sk_webhook_delivery (source, delivery_id, received_at, expires_at) values (?, ?, ?::timestamptz, ?::timestamptz)
on conflict (source, delivery_id) do update set received_at = excluded.received_at, expires_at = excluded.expires_at
  where sk_webhook_delivery.expires_at <= excluded.received_at
returning delivery_id`;

/** Webhook delivery ids in `sk_webhook_delivery`: they survive restarts and are shared by every server process. */
export class PgWebhookDeliveryStore implements WebhookDeliveryStore {
  constructor(private readonly orm: MikroORM) {}

  async claim(source: string, deliveryId: string, now: Date, expiresAt: Date): Promise<boolean> {
    const at = now.toISOString();
    const rows = (await this.orm.em
      .getConnection()
      .execute(CLAIM_SQL, [at, source, deliveryId, source, deliveryId, at, expiresAt.toISOString()], 'all')) as unknown[];
    return rows.length === 1;
  }

  async release(source: string, deliveryId: string): Promise<void> {
    await this.orm.em
      .getConnection()
      .execute(`delete from sk_webhook_delivery where source = ? and delivery_id = ?`, [source, deliveryId], 'run');
  }
}
