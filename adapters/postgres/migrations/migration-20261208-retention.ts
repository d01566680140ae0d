import { Migration } from '@mikro-orm/migrations';

/**
 * Retention (`runtime/retention.ts`): finished instances older than their machine's limit are deleted, or
 * moved to the archive tables, with every row that belongs to them, in batches.
 *
 * @remarks History is append-only for the runtime role (it may not delete `sk_event` rows: see
 * `runtime-grants.ts`). Retention therefore runs as `sk_retention_purge`, a `security definer` function owned
 * by the owner of the tables: the runtime role may call it, and it deletes only whole instances that the rule
 * allows (finished, not paused, parent not active, no active child, no delivery pending), never single rows.
 * Archive rows keep each row whole as jsonb, so later columns of the live tables need no change here.
 * `sk_outbox`, `sk_task` and `sk_history_checkpoint` get an index by instance so a batch finds its rows
 * without scanning them (outbox rows and tasks are rare writes, so the cost on the hot path is small).
 */
export class Migration20261208Retention extends Migration {
  override up(): void {
    this.addSql(`create table if not exists "sk_archive_instance" (
      "id" text primary key, "tenant" text not null, "machine_id" text not null, "status" text not null,
      "updated_at" timestamptz not null, "archived_at" timestamptz not null, "row" jsonb not null);`);
    this.addSql(
      `create index if not exists "sk_archive_instance_tenant_index" on "sk_archive_instance" ("tenant", "machine_id", "updated_at");`,
    );
    this.addSql(`create table if not exists "sk_archive_record" (
      "instance_id" text not null, "kind" text not null, "row" jsonb not null, "archived_at" timestamptz not null);`);
    this.addSql(`create index if not exists "sk_archive_record_instance_index" on "sk_archive_record" ("instance_id", "kind");`);
    this.addSql(`create index if not exists "sk_outbox_instance_id_index" on "sk_outbox" ("instance_id");`);
    this.addSql(`create index if not exists "sk_task_instance_id_index" on "sk_task" ("instance_id");`);
    this.addSql(`create or replace function sk_retention_purge(p_tenant text, p_only text[], p_except text[], p_before timestamptz,
        p_archive boolean, p_limit int, p_dry_run boolean, p_now timestamptz) returns jsonb
      language plpgsql security definer set search_path = public, pg_temp as $$
      declare
        ids text[];
        counts jsonb;
      begin
        -- created_at < before is implied by updated_at < before; it lets the (tenant, machine, status, created_at) index narrow.
        select coalesce(array_agg(c.id), '{}') into ids from (
          select i.id from sk_instance i
          where i.status in ('done', 'error', 'stopped') and not i.paused
            and i.updated_at < p_before and i.created_at < p_before
            and (p_tenant is null or i.tenant = p_tenant)
            and (p_only is null or i.machine_id = any (p_only))
            and (p_except is null or not (i.machine_id = any (p_except)))
            and (i.parent_id is null or not exists (select 1 from sk_instance p where p.id = i.parent_id and p.status = 'active'))
            and not exists (select 1 from sk_instance k where k.parent_id = i.id and k.status = 'active')
            and not exists (select 1 from sk_delivery d where d.instance_id = i.id and d.status = 'pending')
          order by i.updated_at, i.id
          limit case when p_dry_run then null else p_limit end
        ) c;
        if not p_dry_run then
          -- Lock what is taken, skipping rows another purge (another process) is working on.
          select coalesce(array_agg(i.id), '{}') into ids from (
            select id from sk_instance where id = any (ids) and status <> 'active' for update skip locked) i;
        end if;
        counts := jsonb_build_object(
          'instances', cardinality(ids),
          'events', (select count(*) from sk_event where instance_id = any (ids)),
          'effects', (select count(*) from sk_effect where instance_id = any (ids)),
          'outbox', (select count(*) from sk_outbox where instance_id = any (ids)),
          'tasks', (select count(*) from sk_task where instance_id = any (ids)),
          'checkpoints', (select count(*) from sk_history_checkpoint where instance_id = any (ids)));
        if p_dry_run or cardinality(ids) = 0 then return counts; end if;
        if p_archive then
          insert into sk_archive_instance (id, tenant, machine_id, status, updated_at, archived_at, row)
            select id, tenant, machine_id, status, updated_at, p_now, to_jsonb(i) from sk_instance i where id = any (ids)
            on conflict (id) do nothing;
          insert into sk_archive_record (instance_id, kind, row, archived_at)
            select instance_id, 'event', to_jsonb(e), p_now from sk_event e where instance_id = any (ids)
            union all select instance_id, 'effect', to_jsonb(f), p_now from sk_effect f where instance_id = any (ids)
            union all select instance_id, 'outbox', to_jsonb(o), p_now from sk_outbox o where instance_id = any (ids)
            union all select instance_id, 'delivery', to_jsonb(d), p_now from sk_delivery d where instance_id = any (ids)
            union all select instance_id, 'task', to_jsonb(t), p_now from sk_task t where instance_id = any (ids)
            union all select instance_id, 'checkpoint', to_jsonb(h), p_now from sk_history_checkpoint h where instance_id = any (ids);
        end if;
        delete from sk_delivery where instance_id = any (ids);
        delete from sk_outbox where instance_id = any (ids);
        delete from sk_task where instance_id = any (ids);
        delete from sk_correlation where instance_id = any (ids);
        delete from sk_history_checkpoint where instance_id = any (ids);
        delete from sk_effect where instance_id = any (ids);
        delete from sk_event where instance_id = any (ids);
        delete from sk_instance where id = any (ids);
        return counts;
      end $$;`);
    this.addSql(
      `revoke all on function sk_retention_purge(text, text[], text[], timestamptz, boolean, int, boolean, timestamptz) from public;`,
    );
  }

  override down(): void {
    this.addSql(`drop function if exists sk_retention_purge(text, text[], text[], timestamptz, boolean, int, boolean, timestamptz);`);
    this.addSql(`drop index if exists "sk_task_instance_id_index";`);
    this.addSql(`drop index if exists "sk_outbox_instance_id_index";`);
    this.addSql(`drop table if exists "sk_archive_record";`);
    this.addSql(`drop table if exists "sk_archive_instance";`);
  }
}
