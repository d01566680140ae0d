import { Migration } from '@mikro-orm/migrations';

/**
 * Bulk jobs (`POST /v1/bulk`): one row per job with its filter, progress counts, failure report, the cursor it
 * goes on after, and the lease of the process running it.
 *
 * @remarks The partial index serves the claim of running jobs (a handful at most); the tenant index serves the
 * newest-first list.
 */
export class Migration20261208BulkJobs extends Migration {
  override up(): void {
    this.addSql(`create table if not exists "sk_bulk_job" (
      "id" text primary key, "tenant" text not null, "action" text not null, "filter" jsonb not null, "params" jsonb not null,
      "reason" text null,
      "actor" text null, "status" text not null, "total" int not null, "done" int not null default 0, "failed" int not null default 0,
      "skipped" int not null default 0, "cursor" text null, "failures" jsonb not null default '[]', "lease_owner" text null,
      "lease_until" timestamptz null, "cancelled_by" text null, "created_at" timestamptz not null, "updated_at" timestamptz not null,
      "finished_at" timestamptz null);`);
    this.addSql(`create index if not exists "sk_bulk_job_tenant_created" on "sk_bulk_job" ("tenant", "created_at" desc, "id" desc);`);
    this.addSql(`create index if not exists "sk_bulk_job_running" on "sk_bulk_job" ("created_at") where "status" = 'running';`);
  }

  override down(): void {
    this.addSql(`drop table if exists "sk_bulk_job";`);
  }
}
