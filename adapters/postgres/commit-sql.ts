import { cancelFilter } from '../../runtime/effect-address.ts';
import type { CommitRequest, CommitResult } from '../../runtime/ports.ts';
import { type BatchSql, FeatureStatements } from './batch-statement.ts';
import { chainedEvent, EVENT_COLUMNS, effectsCte, previousEvent, tasksOpenedCte } from './insert-ctes.ts';
import { outboxCtes } from './outbox-sql.ts';
import { WAKEUP_CHANNEL } from './pg-notifier.ts';
import { effectJson, taskJson } from './request-json.ts';
import { ts } from './sql-values.ts';

/** What a batch of commits may need beyond the version-checked update, the history row and the notification. */
export type CommitFeature =
  | 'close'
  | 'closeTimer'
  | 'cancel'
  | 'superseded'
  | 'release'
  | 'effects'
  | 'outbox'
  | 'taskClose'
  | 'taskOpen'
  | 'correlation';
export const COMMIT_FEATURES: readonly CommitFeature[] = [
  'close',
  'closeTimer',
  'cancel',
  'superseded',
  'release',
  'effects',
  'outbox',
  'taskClose',
  'taskOpen',
  'correlation',
];

/** The history row of each update, in {@link EVENT_COLUMNS} order. */
const EVENT_VALUES = 'u.id, u.version, r.ev_type, r.ev_payload, r.ev_source, r.ev_actor, r.state_value, r.ev_handled, r.ev_key, r.at';

/**
 * The commit of any number of events (of different instances) as ONE
 * set-based statement. Requests travel as one jsonb array, so the text
 * depends only on which features the batch uses (batch-statement.ts): each
 * text is a named prepared statement, planned once per connection (planning
 * this CTE chain costs more than running it).
 *
 * Per request, in order: the version-checked snapshot update (only while the
 * effect it closes is still open), then for the rows it updated: history row
 * (with its hash chain links), effect close, cancellations, send ids that open
 * timers stop holding, new effects (and the step runs they add to the stats),
 * outbox, tasks, correlation index rows. A request whose update
 * matched nothing writes nothing. No two CTEs change one row (PostgreSQL
 * would keep only one change): the cancelled and the unkeyed timers are told
 * apart by their conditions. The changes are announced to the other
 * processes (pg-notifier.ts) by NOTIFY in the same transaction: they learn of
 * them only if they are committed.
 *
 * The request set is a function result, which the planner takes for 100 rows: joined to it alone, the
 * instance and effect tables were read in full by the generic plan (a hash join) until they held many
 * thousands of rows. The instance update's \`= any(array(...))\` and the effect lookup's lateral subquery make
 * both index scans at any size.
 */
// Exported for the test that prepares every text.
export const commitText = (has: (f: CommitFeature) => boolean) => `with req as (
  select * from jsonb_to_recordset($1::jsonb) as r(
    i int, id text, expected int, snapshot jsonb, status text, state_value jsonb, tags jsonb, output jsonb, error jsonb, at timestamptz,
    machine_version text,
    close_id text, close_status text, close_result jsonb, close_error jsonb,
    ev_type text, ev_payload jsonb, ev_source text, ev_actor text, ev_handled boolean, ev_key text,
    cancel jsonb, cancel_reason jsonb, superseded jsonb, effects jsonb, outbox jsonb, task_open jsonb, task_close jsonb, task_actor text,
    paused boolean, release_timers boolean, corr_write boolean, corr jsonb)
)${
  has('close')
    ? `, chk as (
  -- A lookup per request (offset 0 keeps it one), never a join reading the whole table (see above).
  select r.i, e.status, e.kind, e.name, e.instance_id from req r
    cross join lateral (select e.status, e.kind, e.name, e.instance_id from sk_effect e where e.id = r.close_id offset 0) e
)`
    : ''
}, upd as (
  update sk_instance t set snapshot = r.snapshot, status = r.status, state_value = r.state_value, tags = r.tags, output = r.output,
    error = r.error, version = t.version + 1, updated_at = r.at, machine_version = coalesce(r.machine_version, t.machine_version),
    paused = coalesce(r.paused, t.paused)
  from req r
  where t.id = r.id and t.version = r.expected and t.id = any(array(select id from req))${
    has('close') ? `\n    and (r.close_id is null or exists (select 1 from chk where chk.i = r.i and chk.status = 'pending'))` : ''
  }
  returning r.i, t.id, t.version, t.tenant, t.status, t.machine_id
), ev as (
  insert into sk_event (${EVENT_COLUMNS}, prev_hash, hash)
  select ${chainedEvent(EVENT_VALUES)}
  from upd u join req r on r.i = u.i ${previousEvent('u.id', 'u.version')}
)${
  has('close')
    ? `, closed as (
  update sk_effect e set status = r.close_status, result = r.close_result, error = r.close_error, closed_at = r.at, updated_at = r.at,
    lease_owner = null, lease_until = null, keyed = false
  from upd u join req r on r.i = u.i
  where e.id = r.close_id
)`
    : ''
}${
  has('cancel')
    ? `, cancelled as (
  -- Never the row being closed: two CTEs updating one row leave only one change.
  update sk_effect e set status = 'cancelled', keyed = false, closed_at = r.at, updated_at = r.at,
    error = coalesce(r.cancel_reason, e.error)
  from upd u join req r on r.i = u.i${has('closeTimer') ? ' left join chk c on c.i = r.i' : ''}
  where r.cancel is not null and e.instance_id = r.id and e.status = 'pending' and e.id is distinct from r.close_id
    -- The cancel filter (effect-address.ts cancelFilter): { all: true } or effect names by kind; a timer only while
    -- it holds its send id (keyed), which a timer of the same id delivered by this commit has just freed.
    and (jsonb_exists(r.cancel, 'all') or (jsonb_exists(r.cancel -> e.kind, e.name)
      and (e.kind <> 'timer' or (e.keyed${
        has('closeTimer')
          ? ` and not (c.kind is not distinct from 'timer' and c.instance_id = e.instance_id\n        and c.name = e.name)`
          : ''
      })))
      -- A timer named by its row (a migration's decision), whatever holds its send id.
      or (e.kind = 'timer' and jsonb_exists(coalesce(r.cancel -> 'timerRows', '[]'::jsonb), e.id)))
  returning r.i, e.id, e.kind
)`
    : ''
}${
  has('superseded') || has('closeTimer')
    ? `, unkeyed as (
  -- Open timers that stop holding their send id (XState's scheduler keeps one timer under an id): the id is
  -- scheduled again by this commit (superseded, never an id it cancels), or a timer of that id is delivered by
  -- it (a fire frees the id; the timer may be another instance's delayed sendTo). Never a row cancelled above.
  update sk_effect e set keyed = false
  from (${[
    has('superseded') &&
      `
    select r.id as instance_id, s.name, r.close_id, r.cancel -> 'timerRows' as rows from upd u join req r on r.i = u.i
      cross join lateral jsonb_array_elements_text(coalesce(r.superseded, '[]'::jsonb)) as s(name)
    where not jsonb_exists(coalesce(r.cancel -> 'timer', '[]'::jsonb), s.name)`,
    has('closeTimer') &&
      `
    select c.instance_id, c.name, r.close_id, r.cancel -> 'timerRows' as rows from upd u join req r on r.i = u.i join chk c on c.i = r.i
    where c.kind = 'timer' and not (c.instance_id = r.id and jsonb_exists(coalesce(r.cancel, '{}'::jsonb), 'all'))`,
  ]
    .filter(Boolean)
    .join('\n    union all')}
  ) k
  where e.instance_id = k.instance_id and e.kind = 'timer' and e.name = k.name and e.keyed and e.status = 'pending'
    and e.id is distinct from k.close_id and not jsonb_exists(coalesce(k.rows, '[]'::jsonb), e.id)
)`
    : ''
}${
  has('release')
    ? `, released as (
  -- A resume: the instance's open timers are claimed and armed again by the poller (runtime.resume).
  update sk_effect e set lease_owner = null, lease_until = null
  from upd u join req r on r.i = u.i
  where r.release_timers and e.instance_id = r.id and e.status = 'pending' and e.kind = 'timer'
)`
    : ''
}${has('effects') ? `, ${effectsCte('(select u.id, r.at, r.effects from upd u join req r on r.i = u.i) x', 'upd')}` : ''}${
  has('outbox')
    ? `, ${outboxCtes('(select u.id, u.version, u.tenant, r.at, r.outbox, u.i from upd u join req r on r.i = u.i) x', 'upd')}`
    : ''
}${
  has('taskClose')
    ? `, task_closed as (
  -- Human tasks of the states this transition left (tasks.ts diffTasks).
  update sk_task t set status = c.status, closed_at = r.at, closed_by = r.task_actor
  from upd u join req r on r.i = u.i cross join lateral jsonb_to_recordset(coalesce(r.task_close, '[]'::jsonb)) as c(state text,
      status text)
  where t.instance_id = r.id and t.status = 'open' and t.state = c.state
)`
    : ''
}${
  // ...and of the states it entered: never the same state as one closed above.
  has('taskOpen') ? `, ${tasksOpenedCte('(select u.id, r.at, r.task_open from upd u join req r on r.i = u.i) x')}` : ''
}${
  has('correlation')
    ? `, corr_gone as (
  -- The correlation index (runtime/correlation.ts), only when the values changed: the keys the instance no longer
  -- has a value for (all of them when it ended) go...
  delete from sk_correlation c
  using upd u join req r on r.i = u.i
  where r.corr_write and c.instance_id = u.id and not jsonb_exists(coalesce(r.corr, '{}'::jsonb), c.key)
), corr_set as (
  -- ...and the others are set: never a key deleted above, so no row is touched twice.
  insert into sk_correlation (instance_id, key, tenant, machine_id, value, updated_at)
  select u.id, k.key, u.tenant, u.machine_id, k.value, r.at
  from upd u join req r on r.i = u.i cross join lateral jsonb_each_text(r.corr) k
  where r.corr_write
  on conflict (instance_id, key) do update set value = excluded.value, updated_at = excluded.updated_at
    where sk_correlation.value is distinct from excluded.value
)`
    : ''
}, note as (
  -- [id, tenant, version, status] per change, from origin $2; cut where the running size passes 6000 bytes so that
  -- each payload stays under PostgreSQL's 8000-byte limit (one entry is at most ~750 bytes).
  select pg_notify('${WAKEUP_CHANNEL}',
    json_build_object('o', $2::text, 'c', json_agg(json_build_array(n.id, n.tenant, n.version, n.status)))::text)
  from (
    select u.id, u.tenant, u.version, u.status, sum(octet_length(u.id) + octet_length(u.tenant) + 40) over (order by u.i) / 6000 as chunk
    from upd u
  ) n
  group by n.chunk
)
-- A CTE without side effects of its own runs only when referenced: the counts make the notifications happen.
-- The cancelled timers are returned so that the process disarms exactly those.
select r.i, u.version, ${has('close') ? 'c.status' : 'null::text'} as effect_status,
    ${has('cancel') ? 'ct.ids' : 'null::json'} as cancelled_timers
  from req r left join upd u on u.i = r.i${has('close') ? ' left join chk c on c.i = r.i' : ''}${
    has('cancel')
      ? `
  left join (select x.i, json_agg(x.id) as ids from cancelled x where x.kind = 'timer' group by x.i) ct on ct.i = r.i`
      : ''
  }
  cross join (select count(*) as notes from note) nt${has('outbox') ? ' cross join (select count(*) as dl_notes from dl_note) dn' : ''}`;

/** The statement texts, by the features a batch uses. */
const COMMIT_STATEMENTS = new FeatureStatements('sk_commit_v10', COMMIT_FEATURES, commitText);

/** The statement committing `reqs` (at most one per instance), announced as coming from `origin`. */
export function commitBatchSql(reqs: readonly CommitRequest[], origin: string): BatchSql<CommitResult> {
  const rows = reqs.map((q, i) => ({
    i,
    id: q.instanceId,
    expected: q.expectedVersion,
    snapshot: q.change.snapshot,
    status: q.change.status,
    state_value: q.change.stateValue,
    tags: q.change.tags,
    output: q.change.output ?? null,
    error: q.change.error ?? null,
    at: ts(q.now),
    machine_version: q.machineVersion ?? null,
    close_id: q.closeEffect?.id ?? null,
    close_status: q.closeEffect?.status ?? null,
    close_result: q.closeEffect?.result ?? null,
    close_error: q.closeEffect?.error ?? null,
    paused: q.change.paused ?? null,
    release_timers: q.releaseTimers ?? false,
    ev_type: q.event.type,
    ev_payload: q.event.payload ?? null,
    ev_source: q.event.source,
    ev_actor: q.event.actor,
    ev_handled: q.event.handled,
    ev_key: q.event.idempotencyKey,
    cancel: q.cancel.length ? cancelFilter(q.cancel) : null,
    cancel_reason: q.cancel.length ? (q.cancelReason ?? null) : null,
    superseded: q.superseded?.length ? q.superseded : null,
    effects: effectJson(q.newEffects),
    outbox: q.outbox.length ? q.outbox : null,
    task_open: q.tasks?.open.length ? taskJson(q.tasks.open) : null,
    task_close: q.tasks?.close.length ? q.tasks.close : null,
    task_actor: q.tasks?.actor ?? null,
    corr_write: q.correlation !== undefined,
    corr: q.correlation ?? null,
  }));
  const used = new Set<CommitFeature>();
  for (const [n, r] of rows.entries()) {
    const q = reqs[n]!;
    if (r.close_id !== null) used.add('close');
    // Only a timer's close frees a send id (the unkeyed rows; a cancel of the same id in the same commit).
    if (r.close_id !== null && (q.closeEffect?.kind ?? 'timer') === 'timer') used.add('closeTimer');
    if (r.cancel !== null) used.add('cancel');
    if (r.superseded !== null) used.add('superseded');
    if (r.release_timers) used.add('release');
    if (r.effects !== null) used.add('effects');
    if (r.outbox !== null) used.add('outbox');
    if (r.task_close !== null) used.add('taskClose');
    if (r.task_open !== null) used.add('taskOpen');
    if (r.corr_write) used.add('correlation');
  }
  const { name, sql } = COMMIT_STATEMENTS.text(used);
  return {
    name,
    sql,
    params: [JSON.stringify(rows), origin],
    read: (result) => {
      const byIndex = new Map(result.map((r) => [Number(r.i), r]));
      return reqs.map((q, i): CommitResult => {
        const r = byIndex.get(i);
        if (r?.version != null) {
          const cancelledTimers = r.cancelled_timers as string[] | null;
          return cancelledTimers?.length
            ? { ok: true, version: Number(r.version), cancelledTimers }
            : { ok: true, version: Number(r.version) };
        }
        if (q.closeEffect && r?.effect_status !== 'pending') return { ok: false, reason: 'effect_closed' };
        return { ok: false, reason: 'version_conflict' };
      });
    },
  };
}
