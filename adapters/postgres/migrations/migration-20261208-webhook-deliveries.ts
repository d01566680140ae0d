import { Migration } from '@mikro-orm/migrations';

/**
 * Delivery ids accepted from inbound webhook sources (`api/webhooks/deliveries.ts`), each kept until its
 * `expires_at` so that a replayed delivery is refused; expired rows are swept by later claims.
 */
export class Migration20261208WebhookDeliveries extends Migration {
  override up(): void {
    this.addSql(`create table if not exists "sk_webhook_delivery" (
      "source" text not null, "delivery_id" text not null, "received_at" timestamptz not null, "expires_at" timestamptz not null,
      constraint "sk_webhook_delivery_pkey" primary key ("source", "delivery_id"));`);
    this.addSql(`create index if not exists "sk_webhook_delivery_expires_index" on "sk_webhook_delivery" ("expires_at");`);
  }

  override down(): void {
    this.addSql(`drop table if exists "sk_webhook_delivery";`);
  }
}
