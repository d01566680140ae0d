import { Migration } from '@mikro-orm/migrations';

/**
 * Outbox delivery: subscriptions (webhooks and named in-process handlers) and
 * one delivery row per (outbox row, subscription), written by the commit
 * statement that writes the outbox row (see `commit-sql.ts`), so a delivery
 * exists exactly when its row does. `sk_outbox` gains the attempts made for
 * its deliveries; its `published_at` is set once every delivery of it ended.
 */
export class Migration20261208OutboxDelivery extends Migration {
  override up(): void {
    // tenant null: an in-process handler that hears every tenant. secret: a JSON string, or a sealed value when
    // STATEKEEPER_ENCRYPTION_KEYS is set. Deleting keeps the row (deliveries point at it) and sets deleted_at.
    this.addSql(`create table if not exists "sk_subscription" (
      "id" text primary key, "tenant" text null, "kind" text not null, "url" text null, "event_types" jsonb not null,
      "secret" jsonb null, "description" text null, "created_at" timestamptz not null, "deleted_at" timestamptz null);`);
    // The commit statement looks up the live subscriptions of the committing tenant (and the tenant-less handlers).
    this.addSql(
      `create index if not exists "sk_subscription_live_tenant_index" on "sk_subscription" ("tenant") where "deleted_at" is null;`,
    );
    this.addSql(`create table if not exists "sk_delivery" (
      "id" text primary key, "outbox_id" bigint not null, "subscription_id" text not null, "instance_id" text not null,
      "tenant" text not null, "event_type" text not null, "status" text not null, "attempts" int not null default 0,
      "next_attempt_at" timestamptz null, "lease_owner" text null, "lease_until" timestamptz null, "last_error" text null,
      "last_status" int null, "delivered_at" timestamptz null, "created_at" timestamptz not null, "updated_at" timestamptz not null)
      with (fillfactor = 80);`);
    // Claims scan only pending rows by due time; the ordering check probes the earlier pending rows of one
    // (subscription, instance) pair. Both indexes stay small however many deliveries have ended.
    this.addSql(
      `create index if not exists "sk_delivery_pending_due_index" on "sk_delivery" ("next_attempt_at") where "status" = 'pending';`,
    );
    this.addSql(
      `create index if not exists "sk_delivery_pending_order_index" on "sk_delivery" ("subscription_id", "instance_id", "outbox_id")
          where "status" = 'pending';`,
    );
    this.addSql(`create index if not exists "sk_delivery_instance_index" on "sk_delivery" ("instance_id", "outbox_id");`);
    this.addSql(`create index if not exists "sk_delivery_tenant_status_index" on "sk_delivery" ("tenant", "status", "outbox_id");`);
    this.addSql(`create index if not exists "sk_delivery_outbox_index" on "sk_delivery" ("outbox_id");`);
    this.addSql(`alter table "sk_outbox" add column if not exists "attempts" int not null default 0;`);
  }

  override down(): void {
    this.addSql(`alter table "sk_outbox" drop column if exists "attempts";`);
    this.addSql(`drop table if exists "sk_delivery";`);
    this.addSql(`drop table if exists "sk_subscription";`);
  }
}
