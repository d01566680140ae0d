import { Migration } from '@mikro-orm/migrations';

/**
 * Instances and step rows inserted by the create and commit statements are counted by those statements
 * (stats-delta-sql.ts: one aggregated delta per key and statement); the row triggers count the other inserts.
 *
 * @remarks The insert triggers of migration 20261209-stats-counters cost a plpgsql call per created instance and per
 * step row (the step's with a lookup of its instance's tenant) and a delta row each: 12% of the throughput with 64
 * workflows in flight. A statement that counted the rows it inserts sets their `counted_on_insert`, and the triggers'
 * `when` clauses skip those rows without calling anything. Any other writer (a bulk load, a hand-written insert, a
 * process of an older version during an upgrade) leaves it false and is counted by the triggers as before. The update
 * and delete triggers are unchanged: they fire only when a counted value changes.
 */
export class Migration20261210StatsInStatements extends Migration {
  override up(): void {
    for (const table of ['sk_instance', 'sk_effect'])
      this.addSql(`alter table "${table}" add column if not exists "counted_on_insert" boolean not null default false;`);
    this.addSql(`drop trigger if exists "sk_stats_instance_insert" on "sk_instance";`);
    this.addSql(`create trigger "sk_stats_instance_insert" after insert on "sk_instance"
      for each row when (not new.counted_on_insert) execute function sk_stats_instance_delta();`);
    this.addSql(`drop trigger if exists "sk_stats_step_insert" on "sk_effect";`);
    this.addSql(`create trigger "sk_stats_step_insert" after insert on "sk_effect"
      for each row when (new.kind = 'step' and not new.counted_on_insert) execute function sk_stats_step_delta();`);
  }

  override down(): void {
    this.addSql(`drop trigger if exists "sk_stats_instance_insert" on "sk_instance";`);
    this.addSql(`create trigger "sk_stats_instance_insert" after insert on "sk_instance"
      for each row execute function sk_stats_instance_delta();`);
    this.addSql(`drop trigger if exists "sk_stats_step_insert" on "sk_effect";`);
    this.addSql(`create trigger "sk_stats_step_insert" after insert on "sk_effect"
      for each row when (new.kind = 'step') execute function sk_stats_step_delta();`);
    for (const table of ['sk_instance', 'sk_effect']) this.addSql(`alter table "${table}" drop column if exists "counted_on_insert";`);
  }
}
