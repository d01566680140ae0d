import { Migration } from '@mikro-orm/migrations';

/**
 * Human tasks (`meta.task` of waiting states): one row per entry of such a
 * state, opened and closed by the commit statement of the transition that
 * enters or leaves it (see `commit-sql.ts`).
 */
export class Migration20261207Tasks extends Migration {
  override up(): void {
    this.addSql(`create table if not exists "sk_task" (
      "id" text primary key, "instance_id" text not null, "tenant" text not null, "machine_id" text not null, "state" text not null,
      "title" text not null, "description" text null, "event" text not null, "roles" jsonb not null, "assignee" text null,
      "form" jsonb null, "due_at" timestamptz null, "status" text not null, "claimed_by" text null, "claimed_at" timestamptz null,
      "created_at" timestamptz not null, "closed_at" timestamptz null, "closed_by" text null);`);
    // The inbox reads only open tasks of one tenant, oldest first; the commit closes open tasks by instance and state.
    this.addSql(
      `create index if not exists "sk_task_open_inbox_index" on "sk_task" ("tenant", "created_at", "id") where "status" = 'open';`,
    );
    this.addSql(`create index if not exists "sk_task_open_state_index" on "sk_task" ("instance_id", "state") where "status" = 'open';`);
  }

  override down(): void {
    this.addSql(`drop table if exists "sk_task";`);
  }
}
