import { Migration } from '@mikro-orm/migrations';

/**
 * Restarted instances (`runtime.restartInstance`): the new instance's row names the one it restarts,
 * written by its create statement, so `GET /v1/instances/{id}` shows the link.
 */
export class Migration20261207InstanceRestartOf extends Migration {
  override up(): void {
    this.addSql(`alter table "sk_instance" add column if not exists "restart_of" text null;`);
  }

  override down(): void {
    this.addSql(`alter table "sk_instance" drop column if exists "restart_of";`);
  }
}
