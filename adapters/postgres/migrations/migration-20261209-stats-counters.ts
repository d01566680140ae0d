import { Migration } from '@mikro-orm/migrations';

/** The advisory lock held by the one transaction folding deltas into counters (any constant shared by all processes). */
export const STATS_FOLD_LOCK = 0x534b_5354;

/** What one instance row adds to the counters (times `sign`): its machine and status, outcome and run time when finished. */
const instanceDelta = (r: 'old' | 'new', sign: 1 | -1) => {
  const finished = `${r}.status <> 'active'`;
  const ms = `extract(epoch from ${r}.updated_at - ${r}.created_at) * 1000`;
  return `(${r}.tenant, 'instance', ${r}.machine_id, ${r}.status,
    case when ${finished} and jsonb_typeof(${r}.output -> 'outcome') = 'string' then ${r}.output -> 'outcome' else 'null'::jsonb end,
    '', ${sign}, case when ${finished} then ${sign} * ${ms} else 0 end, ${sign > 0 ? `case when ${finished} then ${ms} end` : 'null'},
    0, 0, ${sign < 0 ? `case when tg_op = 'DELETE' then old.id end` : 'null'})`;
};

/** What one step effect row adds (times `sign`): one run, failed or not, and its attempts beyond the first. */
const stepDelta = (r: 'old' | 'new', sign: 1 | -1) => `(t, 'step', '', '', 'null'::jsonb, coalesce(${r}.target, ${r}.name), ${sign},
    0, null, ${sign} * (${r}.status = 'failed')::int, ${sign} * greatest(${r}.attempts - 1, 0), null)`;

const DELTA_COLUMNS = 'tenant, kind, machine_id, status, outcome, name, n, sum_ms, max_ms, failed, retries, instance_id';
const KEY = 'tenant, kind, machine_id, status, outcome, name';

/**
 * Folds every visible delta into the counters: one statement deletes them and adds them up. Deltas written by
 * transactions still open are invisible to it and stay for the next fold; a delta another fold deleted first
 * is skipped by the delete, so nothing is lost or counted twice. Max is a high-water mark: it never goes down.
 */
const FOLD = `with gone as (
    delete from sk_stats_delta returning ${KEY}, n, sum_ms, max_ms, failed, retries
  ), summed as (
    select ${KEY}, sum(n) as n, sum(sum_ms) as sum_ms, max(max_ms) as max_ms, sum(failed) as failed, sum(retries) as retries,
      count(*) as deltas
    from gone group by ${KEY}
  ), folded as (
    insert into sk_stats_counter as c (${KEY}, n, sum_ms, max_ms, failed, retries)
    select ${KEY}, n, sum_ms, max_ms, failed, retries from summed
    on conflict (${KEY}) do update set n = c.n + excluded.n, sum_ms = c.sum_ms + excluded.sum_ms,
      max_ms = greatest(c.max_ms, excluded.max_ms), failed = c.failed + excluded.failed, retries = c.retries + excluded.retries
  )
  select coalesce(sum(deltas), 0) into folded from summed;`;

/**
 * Counters for `GET /v1/stats` (PgInstanceStore.stats), kept by the database instead of read by full scans.
 *
 * @remarks Row triggers on `sk_instance` and `sk_effect` append one delta row per change of a counted value to
 * `sk_stats_delta`: an instance's machine and status, its outcome (`output.outcome` when a JSON string) and run
 * time (updated_at − created_at) once finished, and per step (target, else name) one run, whether it failed and
 * its attempts beyond the first. Their `when` clauses keep the hot path free: an ordinary transition (status and,
 * while active, nothing counted changes) and a step closed after one attempt queue no trigger at all. An update
 * subtracts the old row's contribution and adds the new one (a retry moves error → active). The delta table is
 * append-only; its `id` primary key is there for logical replication (a table without one cannot publish the
 * fold's deletes), and a partial index holds the rows of deleted instances only.
 *
 * `sk_stats_fold()` (security definer, granted to the runtime role) moves the deltas into `sk_stats_counter`, one
 * row per key, under `pg_try_advisory_xact_lock`: one fold at a time, a second caller returns null at once. The
 * stats query adds counters and the deltas not yet folded, so it is exact at any moment.
 *
 * A step's tenant is its instance's (a primary-key lookup). When the instance row is already gone, which the
 * retention purge never does (it deletes effects first) but a delete in another order would, the tenant comes
 * from the delta the instance's delete wrote in the same transaction (`instance_id` is set on those only).
 *
 * Max run time cannot be subtracted: it is the longest run seen, including instances since purged.
 *
 * `sk_stats_rebuild()` (owner only) recomputes every counter from the rows, keeping the max high-water marks:
 * this migration uses it for the rows that exist before it, and a bulk load with triggers off
 * (`session_replication_role = replica`) calls it after. It locks `sk_instance` and `sk_effect` against writes
 * while it runs (a few seconds at a million rows).
 */
export class Migration20261209StatsCounters extends Migration {
  override up(): void {
    for (const table of ['sk_stats_counter', 'sk_stats_delta'])
      this.addSql(`create table if not exists "${table}" (
        "tenant" text not null, "kind" text not null, "machine_id" text not null, "status" text not null,
        "outcome" jsonb not null, "name" text not null, "n" bigint not null, "sum_ms" numeric not null, "max_ms" numeric null,
        "failed" bigint not null, "retries" bigint not null
        ${table === 'sk_stats_counter' ? `, primary key (${KEY})` : ', "instance_id" text null, "id" bigserial primary key'});`);
    // Every fold deletes what it read, and the stats read scans what is left: vacuumed as soon as autovacuum looks.
    this.addSql(`alter table "sk_stats_delta" set (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000);`);
    this.addSql(
      `create index if not exists "sk_stats_delta_instance_id_index" on "sk_stats_delta" ("instance_id") where "instance_id" is not null;`,
    );

    this.addSql(`create or replace function sk_stats_instance_delta() returns trigger language plpgsql as $$
      begin
        if tg_op = 'UPDATE' then
          insert into sk_stats_delta (${DELTA_COLUMNS}) values ${instanceDelta('old', -1)}, ${instanceDelta('new', 1)};
        elsif tg_op = 'INSERT' then
          insert into sk_stats_delta (${DELTA_COLUMNS}) values ${instanceDelta('new', 1)};
        else
          insert into sk_stats_delta (${DELTA_COLUMNS}) values ${instanceDelta('old', -1)};
        end if;
        return null;
      end $$;`);
    this.addSql(`create or replace function sk_stats_step_delta() returns trigger language plpgsql as $$
      declare
        t text;
      begin
        if tg_op <> 'INSERT' and old.kind = 'step' then
          select i.tenant into t from sk_instance i where i.id = old.instance_id;
          if t is null then
            select d.tenant into t from sk_stats_delta d where d.instance_id = old.instance_id limit 1;
          end if;
          -- A step of an instance that never existed was never counted.
          if t is not null then
            insert into sk_stats_delta (${DELTA_COLUMNS}) values ${stepDelta('old', -1)};
          end if;
        end if;
        if tg_op <> 'DELETE' and new.kind = 'step' then
          if tg_op = 'INSERT' or new.instance_id is distinct from old.instance_id or t is null then
            t := null;
            select i.tenant into t from sk_instance i where i.id = new.instance_id;
          end if;
          if t is not null then
            insert into sk_stats_delta (${DELTA_COLUMNS}) values ${stepDelta('new', 1)};
          end if;
        end if;
        return null;
      end $$;`);

    this.addSql(`create trigger "sk_stats_instance_insert" after insert on "sk_instance"
      for each row execute function sk_stats_instance_delta();`);
    this.addSql(`create trigger "sk_stats_instance_delete" after delete on "sk_instance"
      for each row execute function sk_stats_instance_delta();`);
    // An ordinary transition of an active instance changes nothing counted: no trigger is queued for it.
    this.addSql(`create trigger "sk_stats_instance_update" after update on "sk_instance" for each row
      when (old.status is distinct from new.status or old.tenant is distinct from new.tenant
        or old.machine_id is distinct from new.machine_id
        or (new.status <> 'active' and (old.output -> 'outcome' is distinct from new.output -> 'outcome'
          or old.updated_at is distinct from new.updated_at or old.created_at is distinct from new.created_at)))
      execute function sk_stats_instance_delta();`);
    this.addSql(`create trigger "sk_stats_step_insert" after insert on "sk_effect"
      for each row when (new.kind = 'step') execute function sk_stats_step_delta();`);
    this.addSql(`create trigger "sk_stats_step_delete" after delete on "sk_effect"
      for each row when (old.kind = 'step') execute function sk_stats_step_delta();`);
    // Claims, lease renewals and a close after the first attempt change nothing counted.
    this.addSql(`create trigger "sk_stats_step_update" after update on "sk_effect" for each row
      when ((old.kind = 'step' or new.kind = 'step') and (old.kind is distinct from new.kind
        or old.instance_id is distinct from new.instance_id
        or coalesce(old.target, old.name) is distinct from coalesce(new.target, new.name)
        or (old.status = 'failed') is distinct from (new.status = 'failed')
        or greatest(old.attempts - 1, 0) is distinct from greatest(new.attempts - 1, 0)))
      execute function sk_stats_step_delta();`);

    this.addSql(`create or replace function sk_stats_fold() returns bigint
      language plpgsql security definer set search_path = public, pg_temp as $$
      declare
        folded bigint;
      begin
        if not pg_try_advisory_xact_lock(${STATS_FOLD_LOCK}) then return null; end if;
        ${FOLD}
        return folded;
      end $$;`);
    this.addSql(`revoke all on function sk_stats_fold() from public;`);

    this.addSql(`create or replace function sk_stats_rebuild() returns void language plpgsql as $$
      declare
        folded bigint;
      begin
        -- No writer may change a counted row meanwhile, and no fold may run: the counters equal the rows at commit.
        lock table sk_instance, sk_effect in share mode;
        perform pg_advisory_xact_lock(${STATS_FOLD_LOCK});
        -- Folded first, so the max of runs only the deltas knew is kept.
        ${FOLD}
        update sk_stats_counter set n = 0, sum_ms = 0, failed = 0, retries = 0;
        insert into sk_stats_counter as c (${KEY}, n, sum_ms, max_ms, failed, retries)
          select tenant, 'instance', machine_id, status, outcome, '', count(*), coalesce(sum(ms), 0), max(ms), 0, 0
          from (select tenant, machine_id, status,
              case when status <> 'active' and jsonb_typeof(output -> 'outcome') = 'string' then output -> 'outcome'
                else 'null'::jsonb end as outcome,
              case when status <> 'active' then extract(epoch from updated_at - created_at) * 1000 end as ms
            from sk_instance) i
          group by tenant, machine_id, status, outcome
          union all
          select i.tenant, 'step', '', '', 'null'::jsonb, coalesce(e.target, e.name), count(*), 0, null,
            count(*) filter (where e.status = 'failed'), coalesce(sum(greatest(e.attempts - 1, 0)), 0)
          from sk_effect e join sk_instance i on i.id = e.instance_id where e.kind = 'step'
          group by i.tenant, coalesce(e.target, e.name)
        on conflict (${KEY}) do update set n = excluded.n, sum_ms = excluded.sum_ms,
          max_ms = greatest(c.max_ms, excluded.max_ms), failed = excluded.failed, retries = excluded.retries;
      end $$;`);
    this.addSql(`revoke all on function sk_stats_rebuild() from public;`);
    this.addSql(`select sk_stats_rebuild();`);
  }

  override down(): void {
    for (const t of ['sk_stats_instance_insert', 'sk_stats_instance_delete', 'sk_stats_instance_update'])
      this.addSql(`drop trigger if exists "${t}" on "sk_instance";`);
    for (const t of ['sk_stats_step_insert', 'sk_stats_step_delete', 'sk_stats_step_update'])
      this.addSql(`drop trigger if exists "${t}" on "sk_effect";`);
    for (const f of ['sk_stats_rebuild', 'sk_stats_fold', 'sk_stats_step_delta', 'sk_stats_instance_delta'])
      this.addSql(`drop function if exists ${f}();`);
    this.addSql(`drop table if exists "sk_stats_delta";`);
    this.addSql(`drop table if exists "sk_stats_counter";`);
  }
}
