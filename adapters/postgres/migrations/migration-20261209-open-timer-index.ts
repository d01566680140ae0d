import { Migration } from '@mikro-orm/migrations';

/**
 * The open timers that hold their send id (`keyed`), by instance and name: what a commit looks up when it frees a
 * send id (the `unkeyed` step of commit-sql.ts: a timer scheduled again under its id, or one of its id fired).
 * Without it that lookup read every open effect through `sk_effect_open_due_index`, including the index entries of
 * effects closed since the last vacuum: 20 ms per commit batch at 64 workflows in flight, and growing for as long
 * as a transaction held back the xmin horizon (`npm run bench -- --stuck`). Only open keyed timers are in it, so
 * its walk stays as short as the number of armed timers whatever the number of dead row versions.
 */
export class Migration20261209OpenTimerIndex extends Migration {
  override up(): void {
    this.addSql(
      `create index if not exists "sk_effect_open_keyed_timer_index" on "sk_effect" ("instance_id", "name")
         where "status" = 'pending' and "kind" = 'timer' and "keyed";`,
    );
  }

  override down(): void {
    this.addSql(`drop index if exists "sk_effect_open_keyed_timer_index";`);
  }
}
