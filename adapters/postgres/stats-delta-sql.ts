/**
 * What the create and commit statements add to the stats counters themselves (migration 20261210-stats-in-statements):
 * one `sk_stats_delta` row per key and statement, aggregated over the rows it inserted, where the row triggers of
 * migration 20261209-stats-counters wrote one per row, each a plpgsql call (the step's with a lookup of its
 * instance's tenant). The rows they insert have `counted_on_insert` set, which the insert triggers skip. The values
 * are those triggers' (migration-20261209-stats-counters.ts instanceDelta, stepDelta); updates and deletes are still
 * counted by the triggers.
 */

const COLUMNS = 'tenant, kind, machine_id, status, outcome, name, n, sum_ms, max_ms, failed, retries';

/** The instances `inserted` (rows of `sk_instance` a statement inserted) add: machine, status, outcome and run time. */
export const instancesCountedCte = (inserted: string) => `instances_counted as (
  insert into sk_stats_delta (${COLUMNS})
  select tenant, 'instance', machine_id, status, outcome, '', count(*), coalesce(sum(ms), 0), max(ms), 0, 0
  from (
    select tenant, machine_id, status,
      case when status <> 'active' and jsonb_typeof(output -> 'outcome') = 'string' then output -> 'outcome' else 'null'::jsonb end
        as outcome,
      case when status <> 'active' then extract(epoch from updated_at - created_at) * 1000 end as ms
    from ${inserted}
  ) i
  group by tenant, machine_id, status, outcome
)`;

/**
 * The step rows among `inserted` (rows of `sk_effect`) add one run each, by tenant and step (target, else name);
 * `owners` gives each instance's `id` and `tenant`.
 */
export const stepsCountedCte = (inserted: string, owners: string) => `steps_counted as (
  insert into sk_stats_delta (${COLUMNS})
  select o.tenant, 'step', '', '', 'null'::jsonb, coalesce(e.target, e.name), count(*), 0, null,
    count(*) filter (where e.status = 'failed'), coalesce(sum(greatest(e.attempts - 1, 0)), 0)
  from ${inserted} e join ${owners} o on o.id = e.instance_id
  where e.kind = 'step'
  group by o.tenant, coalesce(e.target, e.name)
)`;
