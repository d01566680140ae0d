import { Migration } from '@mikro-orm/migrations';

/**
 * The correlation index (`runtime/correlation.ts`): one row per business key of each active instance of a
 * machine registered with `correlation`, written by the commit statement of the transition that changes the
 * key's value (`commit-sql.ts`) and removed by the one that ends the instance.
 */
export class Migration20261208Correlation extends Migration {
  override up(): void {
    // One value per key and instance: the commit upserts on this key and deletes the keys an instance no longer has.
    this.addSql(`create table if not exists "sk_correlation" (
      "instance_id" text not null, "key" text not null, "tenant" text not null, "machine_id" text not null,
      "value" text not null, "updated_at" timestamptz not null,
      constraint "sk_correlation_pkey" primary key ("instance_id", "key"));`);
    // Not unique: several instances may wait on one value, which POST /v1/correlate answers as ambiguous.
    this.addSql(`create index if not exists "sk_correlation_lookup_index" on "sk_correlation" ("tenant", "key", "value", "machine_id");`);
  }

  override down(): void {
    this.addSql(`drop table if exists "sk_correlation";`);
  }
}
