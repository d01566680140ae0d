import { Migration } from '@mikro-orm/migrations';

/** API keys of the HTTP API (see `entities/api-key.entity.ts`). */
export class Migration20261123ApiKeys extends Migration {
  override up(): void {
    this.addSql(`create table "sk_api_key" (
      "id" text primary key, "tenant" text not null, "name" text not null, "roles" jsonb not null,
      "secret_hash" text not null, "created_at" timestamptz not null, "revoked_at" timestamptz null);`);
    this.addSql(`create index "sk_api_key_tenant_index" on "sk_api_key" ("tenant");`);
    // A name names one live key per tenant; revoked keys keep their row (and name) for the audit trail.
    this.addSql(`create unique index "sk_api_key_tenant_name_live_unique" on "sk_api_key" ("tenant", "name") where "revoked_at" is null;`);
  }

  override down(): void {
    this.addSql('drop table if exists "sk_api_key";');
  }
}
