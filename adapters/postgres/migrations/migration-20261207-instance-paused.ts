import { Migration } from '@mikro-orm/migrations';

/**
 * Paused instances (`runtime.pause`): the flag is part of the instance row,
 * written by the commit statement of the pause or resume event, so it
 * survives restarts. `claimDue` skips the effects of a paused instance.
 */
export class Migration20261207InstancePaused extends Migration {
  override up(): void {
    this.addSql(`alter table "sk_instance" add column if not exists "paused" boolean not null default false;`);
  }

  override down(): void {
    this.addSql(`alter table "sk_instance" drop column if exists "paused";`);
  }
}
