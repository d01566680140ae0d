/**
 * `GET /v1/stats` from the counters the database keeps (migration 20261209-stats-counters): the folded counters of
 * one tenant plus the deltas not folded yet, read in one statement (one snapshot, so a fold committing meanwhile is
 * seen whole or not at all). Both are small whatever the number of stored rows: a counter row per machine, status
 * and outcome, and per step name; deltas of the last few seconds. Keys whose count went back to 0 are left out.
 * Rows come as `part` (instances, steps, outcomes, durations) with up to two keys, sorted by them in code-point order
 * (collate "C": the same on every server, and as the memory store sorts).
 */
export const STATS_SQL = `select * from (with c as (
  select kind, machine_id, status, outcome, name, n, sum_ms, max_ms, failed, retries from sk_stats_counter where tenant = ?
  union all
  select kind, machine_id, status, outcome, name, n, sum_ms, max_ms, failed, retries from sk_stats_delta where tenant = ?
), i as (
  select * from c where kind = 'instance'
)
select 'instances' as part, machine_id as k1, status as k2, sum(n) as n, null::numeric as sum_ms, null::numeric as max_ms,
    null::bigint as failed, null::bigint as retries
  from i group by machine_id, status having sum(n) <> 0
union all
select 'steps', name, null, sum(n), null, null, sum(failed), sum(retries) from c where kind = 'step' group by name having sum(n) <> 0
union all
select 'outcomes', machine_id, outcome #>> '{}', sum(n), null, null, null, null
  from i where status <> 'active' and jsonb_typeof(outcome) = 'string' group by machine_id, outcome #>> '{}' having sum(n) <> 0
union all
-- Max is the high-water mark of the machine's runs, including instances since purged: it cannot be subtracted.
select 'durations', machine_id, null, sum(n), sum(sum_ms), max(max_ms), null, null
  from i where status <> 'active' group by machine_id having sum(n) <> 0
) s order by part, k1 collate "C", k2 collate "C"`;

/** What folds the stats deltas: `PgInstanceStore.foldStats`. */
export interface StatsFolder {
  foldStats(): Promise<number | null>;
}

/**
 * Folds the stats deltas into the counters every `intervalMs` until the returned function is called (it waits for a
 * fold under way). Any number of processes may run it: one folds at a time, the others skip that round.
 * @remarks Errors are reported through `onError` and the next round tries again. Without it the deltas only grow:
 * the stats stay exact but read more rows.
 */
export function startStatsFolding(store: StatsFolder, intervalMs: number, onError: (e: unknown) => void): () => Promise<void> {
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    running = running.then(() => store.foldStats()).catch(onError);
  }, intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
