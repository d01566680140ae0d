import { Migration } from '@mikro-orm/migrations';

/**
 * `sk_effect.keyed`: the open timer that holds its send id in XState's scheduler, the one `cancel(id)`
 * cancels. XState keeps every timer scheduled under one id but holds only the newest under it, and a timer
 * of that id firing frees the id, so a cancel may reach one timer or none (before, every open timer of the id
 * was cancelled). Open timers written before this migration: the newest of each instance and send id holds it.
 */
export class Migration20261208TimerKeyed extends Migration {
  override up(): void {
    this.addSql(`alter table "sk_effect" add column if not exists "keyed" boolean not null default false;`);
    this.addSql(`update "sk_effect" e set "keyed" = true
      where e."kind" = 'timer' and e."status" = 'pending'
        and e."seq" = (select max(o."seq") from "sk_effect" o
                       where o."instance_id" = e."instance_id" and o."kind" = 'timer' and o."name" = e."name");`);
  }

  override down(): void {
    this.addSql(`alter table "sk_effect" drop column if exists "keyed";`);
  }
}
