import { Migration } from '@mikro-orm/migrations';

/**
 * Forked instances (`runtime.forkInstance`): the fork's row names the instance and the history entry it was
 * forked from, written by its create statement, so `GET /v1/instances/{id}` shows the link.
 */
export class Migration20261208InstanceForkOf extends Migration {
  override up(): void {
    this.addSql(`alter table "sk_instance" add column if not exists "fork_of" text null, add column if not exists "fork_of_seq" int null;`);
  }

  override down(): void {
    this.addSql(`alter table "sk_instance" drop column if exists "fork_of", drop column if exists "fork_of_seq";`);
  }
}
