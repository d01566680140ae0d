import { Migration } from '@mikro-orm/migrations';

/**
 * Durable cron schedules (`runtime.schedules`): one row per schedule, its definition and where its ticks are.
 * A process claims a due schedule by its lease (`FOR UPDATE SKIP LOCKED`) and moves `next_tick` by a
 * compare-and-set; the instance of each tick is made unique by its idempotency key (see `schedules.ts`).
 */
export class Migration20261208Schedules extends Migration {
  override up(): void {
    this.addSql(`create table if not exists "sk_schedule" (
      "tenant" text not null, "id" text not null, "machine" text not null, "input" jsonb not null,
      "cron" text not null, "timezone" text not null, "overlap" text not null, "catch_up" text not null,
      "paused" boolean not null default false, "origin" text not null,
      "next_tick" timestamptz null, "last_tick" timestamptz null, "last_instance_id" text null,
      "last_outcome" text null, "last_error" text null, "lease_owner" text null, "lease_until" timestamptz null,
      "created_at" timestamptz not null, "updated_at" timestamptz not null,
      constraint "sk_schedule_pkey" primary key ("tenant", "id"),
      constraint "sk_schedule_overlap_check" check ("overlap" in ('skip', 'allow', 'cancel-previous')),
      constraint "sk_schedule_catch_up_check" check ("catch_up" in ('none', 'all')));`);
    // The schedule loop asks for due and soonest ticks of running schedules only.
    this.addSql(`create index if not exists "sk_schedule_next_tick_index" on "sk_schedule" ("next_tick") where not "paused";`);
  }

  override down(): void {
    this.addSql(`drop table if exists "sk_schedule";`);
  }
}
