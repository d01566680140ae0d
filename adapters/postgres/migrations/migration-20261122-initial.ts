import { Migration } from '@mikro-orm/migrations';

/** Instances, history, effects and outbox (see the entities for the meaning of each column). */
export class Migration20261122Initial extends Migration {
  override up(): void {
    // fillfactor leaves room on each page so the per-event snapshot update can stay a HOT update
    // (no index writes) when no indexed column changes.
    this.addSql(`create table "sk_instance" (
      "id" text primary key, "tenant" text not null, "machine_id" text not null, "machine_version" text not null,
      "status" text not null, "state_value" jsonb not null, "tags" jsonb not null, "snapshot" jsonb not null,
      "version" int not null default 1, "parent_id" text null, "parent_ref" text null,
      "idempotency_key" text null, "input_hash" text null, "output" jsonb null, "error" jsonb null,
      "trace_context" jsonb null, "created_at" timestamptz not null, "updated_at" timestamptz not null)
      with (fillfactor = 70);`);
    this.addSql(
      `alter table "sk_instance" add constraint "sk_instance_tenant_idempotency_key_unique" unique ("tenant", "idempotency_key");`,
    );
    this.addSql(
      `create index "sk_instance_tenant_machine_status_created_index" on "sk_instance" ("tenant", "machine_id", "status",
          "created_at", "id");`,
    );
    this.addSql(`create index "sk_instance_tenant_created_index" on "sk_instance" ("tenant", "created_at", "id");`);
    this.addSql(`create index "sk_instance_parent_id_index" on "sk_instance" ("parent_id") where "parent_id" is not null;`);

    this.addSql(`create table "sk_event" (
      "instance_id" text not null, "seq" int not null, "type" text not null, "payload" jsonb null,
      "source" text not null, "actor" text null, "state_value" jsonb not null, "handled" boolean not null,
      "idempotency_key" text null, "created_at" timestamptz not null, primary key ("instance_id", "seq"));`);
    // Partial: most events carry no key, and they should cost no index entry here.
    this.addSql(
      `create unique index "sk_event_instance_id_idempotency_key_unique" on "sk_event" ("instance_id",
          "idempotency_key") where "idempotency_key" is not null;`,
    );

    this.addSql(`create table "sk_effect" (
      "id" text primary key, "seq" bigserial not null, "instance_id" text not null, "kind" text not null, "name" text not null,
      "target" text null, "status" text not null, "input" jsonb null, "event" jsonb null,
      "attempts" int not null, "due_at" timestamptz null, "lease_owner" text null, "lease_until" timestamptz null,
      "result" jsonb null, "error" jsonb null, "last_error" jsonb null,
      "created_at" timestamptz not null, "updated_at" timestamptz not null, "closed_at" timestamptz null)
      with (fillfactor = 80);`);
    this.addSql(`create index "sk_effect_instance_id_kind_name_index" on "sk_effect" ("instance_id", "kind", "name");`);
    // The pollers only ever look at open effects; a partial index keeps them cheap however long history grows.
    this.addSql(`create index "sk_effect_open_due_index" on "sk_effect" ("due_at") where "status" = 'pending';`);
    this.addSql(`create index "sk_effect_open_child_index" on "sk_effect" ("id") where "status" = 'pending' and "kind" = 'child';`);

    this.addSql(`create table "sk_outbox" (
      "id" bigserial primary key, "instance_id" text not null, "seq" int not null, "type" text not null,
      "payload" jsonb not null, "created_at" timestamptz not null, "published_at" timestamptz null);`);
    this.addSql(`create index "sk_outbox_unpublished_index" on "sk_outbox" ("id") where "published_at" is null;`);
  }

  override down(): void {
    this.addSql('drop table if exists "sk_outbox";');
    this.addSql('drop table if exists "sk_effect";');
    this.addSql('drop table if exists "sk_event";');
    this.addSql('drop table if exists "sk_instance";');
  }
}
