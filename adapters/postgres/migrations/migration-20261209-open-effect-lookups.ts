import { Migration } from '@mikro-orm/migrations';

/**
 * Lookups of one instance's open effects read that instance's index entries only.
 *
 * A commit that cancels (leaving a state with an invoke, a stop) looks up the instance's open effects. The planner
 * took `sk_effect_open_due_index` for it, reading it whole, because its statistics count only the few open rows;
 * but a partial index also holds an entry for each row version closed since the last vacuum, and for as long as a
 * transaction holds back the xmin horizon none is removed. After 100 s of a held horizon that walk was 83,000
 * buffers and 250 ms in a commit batch of 10 step results, and throughput fell by three quarters
 * (`npm run bench -- --stuck`). (A partial index of the open effects by instance fared worse: the planner read it
 * whole for each request of a batch too, 13 s for one batch.)
 *
 * `sk_effect_open_due_index` is for the poller's claim by due time (`due_at <= ?`): its predicate now also says
 * `due_at is not null`, which the claim implies and the instance lookups do not, so the planner can no longer take
 * it for them and looks the instance up in (instance_id, seq), reading that instance's entries. An open effect
 * without a due time (a started child) is never claimed by due time anyway.
 */
export class Migration20261209OpenEffectLookups extends Migration {
  override up(): void {
    this.addSql(`drop index if exists "sk_effect_open_due_index";`);
    this.addSql(`create index "sk_effect_open_due_index" on "sk_effect" ("due_at") where "status" = 'pending' and "due_at" is not null;`);
  }

  override down(): void {
    this.addSql(`drop index if exists "sk_effect_open_due_index";`);
    this.addSql(`create index "sk_effect_open_due_index" on "sk_effect" ("due_at") where "status" = 'pending';`);
  }
}
