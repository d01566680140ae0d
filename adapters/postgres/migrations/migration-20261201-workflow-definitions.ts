import { Migration } from '@mikro-orm/migrations';

/**
 * Workflow definitions registered at run time (`POST /v1/machines`): kept so a
 * restarted server registers them again before it resumes their instances.
 */
export class Migration20261201WorkflowDefinitions extends Migration {
  override up(): void {
    this.addSql(`create table if not exists "sk_definition" (
      "machine_id" text not null,
      "version" text not null,
      "definition" jsonb not null,
      "created_by" text null,
      "created_at" timestamptz not null,
      constraint "sk_definition_pkey" primary key ("machine_id", "version"));`);
  }

  override down(): void {
    this.addSql(`drop table if exists "sk_definition";`);
  }
}
