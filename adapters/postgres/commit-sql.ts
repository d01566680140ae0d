import { cancelFilter } from '../../runtime/effect-address.ts';
import type { CommitRequest, CommitResult, CreateRequest, CreateResult } from '../../runtime/ports.ts';
import type { NewTask } from '../../runtime/tasks.ts';
import { WAKEUP_CHANNEL } from './pg-notifier.ts';
import type { Row } from './rows.ts';

export const json = (v: unknown): string | null => (v === undefined || v === null ? null : JSON.stringify(v));
export const ts = (d: Date | null | undefined): string | null => (d ? d.toISOString() : null);

/**
 * Whether a live subscription `s` takes an outbox row of `tenant` and `type`: its tenant (or none, an
 * in-process handler of every tenant), and one of its patterns (`event-filter.ts`: `*`, the exact type, or a
 * prefix ending in `.*`). Evaluated by the commit statement: deliveries exist exactly when their row does.
 */
const SUBSCRIPTION_MATCHES = (tenant: string, type: string) => `s.deleted_at is null and (s.tenant is null or s.tenant = ${tenant})
      and exists (select 1 from jsonb_array_elements_text(s.event_types) p(t)
        where p.t = '*' or p.t = ${type} or (right(p.t, 2) = '.*' and starts_with(${type}, left(p.t, -1))))`;

/** One pending delivery per new outbox row (`ob`) and matching subscription; `owners` holds the instances' tenants. */
const INSERT_DELIVERIES = (owners: string, key: string) => `insert into sk_delivery (id, outbox_id, subscription_id, instance_id, tenant,
      event_type, status, attempts, next_attempt_at, created_at, updated_at)
  select ob.id || '-' || s.id, ob.id, s.id, ob.instance_id, w.tenant, ob.type, 'pending', 0, ob.created_at, ob.created_at, ob.created_at
  from ob join ${owners} w on w.${key} = ob.instance_id join sk_subscription s on ${SUBSCRIPTION_MATCHES('w.tenant', 'ob.type')}
  returning 1`;

/**
 * The commit of any number of events (of different instances) as ONE
 * set-based statement. Requests travel as one jsonb array, so the statement
 * text never changes: it is a named prepared statement, planned once per
 * connection (planning this CTE chain costs more than running it).
 *
 * Per request, in order: the version-checked snapshot update (only while the
 * effect it closes is still open), then for the rows it updated: history row,
 * effect close, cancellations, send ids that open timers stop holding, new
 * effects, outbox, tasks, correlation index rows. A request whose update
 * matched nothing writes nothing. No two CTEs change one row (PostgreSQL
 * would keep only one change): the cancelled and the unkeyed timers are told
 * apart by their conditions. The changes are announced to the other
 * processes (pg-notifier.ts) by NOTIFY in the same transaction: they learn of
 * them only if they are committed.
 */
const COMMIT_SQL = `with req as (
  select * from jsonb_to_recordset($1::jsonb) as r(
    i int, id text, expected int, snapshot jsonb, status text, state_value jsonb, tags jsonb, output jsonb, error jsonb, at timestamptz,
    machine_version text,
    close_id text, close_status text, close_result jsonb, close_error jsonb,
    ev_type text, ev_payload jsonb, ev_source text, ev_actor text, ev_handled boolean, ev_key text,
    cancel jsonb, cancel_reason jsonb, superseded jsonb, effects jsonb, outbox jsonb, task_open jsonb, task_close jsonb, task_actor text,
    paused boolean, release_timers boolean, corr_write boolean, corr jsonb)
), chk as (
  select r.i, e.status, e.kind, e.name, e.instance_id from req r join sk_effect e on e.id = r.close_id
), upd as (
  update sk_instance t set snapshot = r.snapshot, status = r.status, state_value = r.state_value, tags = r.tags, output = r.output,
    error = r.error, version = t.version + 1, updated_at = r.at, machine_version = coalesce(r.machine_version, t.machine_version),
    paused = coalesce(r.paused, t.paused)
  from req r
  where t.id = r.id and t.version = r.expected
    and (r.close_id is null or exists (select 1 from chk where chk.i = r.i and chk.status = 'pending'))
  returning r.i, t.id, t.version, t.tenant, t.status, t.machine_id
), ev as (
  insert into sk_event (instance_id, seq, type, payload, source, actor, state_value, handled, idempotency_key, created_at)
  select u.id, u.version, r.ev_type, r.ev_payload, r.ev_source, r.ev_actor, r.state_value, r.ev_handled, r.ev_key, r.at
  from upd u join req r on r.i = u.i
), closed as (
  update sk_effect e set status = r.close_status, result = r.close_result, error = r.close_error, closed_at = r.at, updated_at = r.at,
    lease_owner = null, lease_until = null, keyed = false
  from upd u join req r on r.i = u.i
  where e.id = r.close_id
), cancelled as (
  -- Never the row being closed: two CTEs updating one row leave only one change.
  update sk_effect e set status = 'cancelled', keyed = false, closed_at = r.at, updated_at = r.at,
    error = coalesce(r.cancel_reason, e.error)
  from upd u join req r on r.i = u.i left join chk c on c.i = r.i
  where r.cancel is not null and e.instance_id = r.id and e.status = 'pending' and e.id is distinct from r.close_id
    -- The cancel filter (effect-address.ts cancelFilter): { all: true } or effect names by kind; a timer only while
    -- it holds its send id (keyed), which a timer of the same id delivered by this commit has just freed.
    and (jsonb_exists(r.cancel, 'all') or (jsonb_exists(r.cancel -> e.kind, e.name)
      and (e.kind <> 'timer' or (e.keyed and not (c.kind is not distinct from 'timer' and c.instance_id = e.instance_id
        and c.name = e.name))))
      -- A timer named by its row (a migration's decision), whatever holds its send id.
      or (e.kind = 'timer' and jsonb_exists(coalesce(r.cancel -> 'timerRows', '[]'::jsonb), e.id)))
  returning r.i, e.id, e.kind
), unkeyed as (
  -- Open timers that stop holding their send id (XState's scheduler keeps one timer under an id): the id is
  -- scheduled again by this commit (superseded, never an id it cancels), or a timer of that id is delivered by
  -- it (a fire frees the id; the timer may be another instance's delayed sendTo). Never a row cancelled above.
  update sk_effect e set keyed = false
  from (
    select r.id as instance_id, s.name, r.close_id, r.cancel -> 'timerRows' as rows from upd u join req r on r.i = u.i
      cross join lateral jsonb_array_elements_text(coalesce(r.superseded, '[]'::jsonb)) as s(name)
    where not jsonb_exists(coalesce(r.cancel -> 'timer', '[]'::jsonb), s.name)
    union all
    select c.instance_id, c.name, r.close_id, r.cancel -> 'timerRows' from upd u join req r on r.i = u.i join chk c on c.i = r.i
    where c.kind = 'timer' and not (c.instance_id = r.id and jsonb_exists(coalesce(r.cancel, '{}'::jsonb), 'all'))
  ) k
  where e.instance_id = k.instance_id and e.kind = 'timer' and e.name = k.name and e.keyed and e.status = 'pending'
    and e.id is distinct from k.close_id and not jsonb_exists(coalesce(k.rows, '[]'::jsonb), e.id)
), released as (
  -- A resume: the instance's open timers are claimed and armed again by the poller (runtime.resume).
  update sk_effect e set lease_owner = null, lease_until = null
  from upd u join req r on r.i = u.i
  where r.release_timers and e.instance_id = r.id and e.status = 'pending' and e.kind = 'timer'
), eff as (
  insert into sk_effect (created_at, updated_at, id, instance_id, kind, name, target, status, input, event, attempts, due_at,
      lease_owner, lease_until, keyed)
  select r.at, r.at, e.id, u.id, e.kind, e.name, e.target, 'pending', e.input, e.event, e.attempts, e."dueAt", e."leaseOwner",
      e."leaseUntil", coalesce(e.keyed, false)
  from upd u join req r on r.i = u.i
  cross join lateral jsonb_to_recordset(coalesce(r.effects, '[]'::jsonb))
    as e(id text, kind text, name text, target text, input jsonb, event jsonb, attempts int, "dueAt" timestamptz,
        "leaseOwner" text, "leaseUntil" timestamptz, keyed boolean)
), ob as (
  -- A row no live subscription matches is published as it is written: it has nothing to wait for.
  insert into sk_outbox (instance_id, seq, type, payload, created_at, published_at)
  select u.id, u.version, o.type, o.payload, r.at,
    case when exists (select 1 from sk_subscription s where ${SUBSCRIPTION_MATCHES('u.tenant', 'o.type')}) then null else r.at end
  from upd u join req r on r.i = u.i cross join lateral rows from (jsonb_to_recordset(coalesce(r.outbox, '[]'::jsonb))
    as (type text, payload jsonb)) with ordinality as o(type, payload, n)
  order by u.i, o.n
  returning id, instance_id, type, created_at
), dl as (
  ${INSERT_DELIVERIES('upd', 'id')}
), task_closed as (
  -- Human tasks of the states this transition left (tasks.ts diffTasks).
  update sk_task t set status = c.status, closed_at = r.at, closed_by = r.task_actor
  from upd u join req r on r.i = u.i cross join lateral jsonb_to_recordset(coalesce(r.task_close, '[]'::jsonb)) as c(state text,
      status text)
  where t.instance_id = r.id and t.status = 'open' and t.state = c.state
), task_opened as (
  -- ...and of the states it entered: never the same state as one closed above.
  insert into sk_task (id, instance_id, tenant, machine_id, state, title, description, event, roles, assignee, form, due_at,
      status, created_at)
  select t.id, u.id, t.tenant, t."machineId", t.state, t.title, t.description, t.event, t.roles, t.assignee, t.form, t."dueAt", 'open', r.at
  from upd u join req r on r.i = u.i cross join lateral jsonb_to_recordset(coalesce(r.task_open, '[]'::jsonb)) as t(
    id text, tenant text, "machineId" text, state text, title text, description text, event text, roles jsonb, assignee text,
    form jsonb, "dueAt" timestamptz)
  on conflict (id) do nothing
), corr_gone as (
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
)
, note as (
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
, dl_note as (
  -- Deliveries to make: the other processes' dispatchers claim at once rather than at their next poll.
  select pg_notify('${WAKEUP_CHANNEL}', json_build_object('o', $2::text, 'd', 1)::text) from (select 1 from dl limit 1) x
)
-- A CTE without side effects of its own runs only when referenced: the counts make the notifications happen.
-- The cancelled timers are returned so that the process disarms exactly those.
select r.i, u.version, c.status as effect_status, ct.ids as cancelled_timers
  from req r left join upd u on u.i = r.i left join chk c on c.i = r.i
  left join (select x.i, json_agg(x.id) as ids from cancelled x where x.kind = 'timer' group by x.i) ct on ct.i = r.i
  cross join (select count(*) as notes from note) nt cross join (select count(*) as dl_notes from dl_note) dn`;

/**
 * The first commit of any number of instances as one statement: insert
 * (skipped when the id or the tenant's idempotency key exists), history row 1 (a fork: its copied history, then its own row),
 * effects, outbox, and clearing the due time of the parent's child effect.
 */
const CREATE_SQL = `with req as (
  select * from jsonb_to_recordset($1::jsonb) as r(
    i int, id text, tenant text, machine_id text, machine_version text, status text, state_value jsonb, tags jsonb, snapshot jsonb,
    parent_id text, parent_ref text, idempotency_key text, input_hash text, output jsonb, error jsonb, trace_context jsonb, at timestamptz,
    restart_of text, fork_of text, fork_of_seq int, version int, prior jsonb,
    ev_type text, ev_payload jsonb, ev_source text, ev_actor text, effects jsonb, outbox jsonb, started_by text, task_open jsonb,
    corr jsonb)
), ins as (
  insert into sk_instance (id, tenant, machine_id, machine_version, status, state_value, tags, snapshot, version, parent_id, parent_ref,
    idempotency_key, input_hash, output, error, trace_context, created_at, updated_at, restart_of, fork_of, fork_of_seq)
  select id, tenant, machine_id, machine_version, status, state_value, tags, snapshot, version, parent_id, parent_ref,
    idempotency_key, input_hash, output, error, trace_context, at, at, restart_of, fork_of, fork_of_seq
  from req order by i
  on conflict do nothing
  returning id
), made as (
  select r.* from req r join ins on ins.id = r.id
), ev as (
  -- A fork's copied history (seq 1..n) and its own first row (n + 1) in one insert, in order: the chain trigger
  -- links each row to the one before it, which an earlier row of the same statement is.
  insert into sk_event (instance_id, seq, type, payload, source, actor, state_value, handled, idempotency_key, created_at)
  select x.* from (
    select m.id, p.seq, p.type, p.payload, p.source, p.actor, p."stateValue", p.handled, p."idempotencyKey", p."createdAt"
    from made m cross join lateral jsonb_to_recordset(coalesce(m.prior, '[]'::jsonb)) as p(seq int, type text, payload jsonb,
      source text, actor text, "stateValue" jsonb, handled boolean, "idempotencyKey" text, "createdAt" timestamptz)
    union all
    select id, version, ev_type, ev_payload, ev_source, ev_actor, state_value, true, null, at from made
  ) x order by 1, 2
), eff as (
  insert into sk_effect (created_at, updated_at, id, instance_id, kind, name, target, status, input, event, attempts, due_at,
      lease_owner, lease_until, keyed)
  select m.at, m.at, e.id, m.id, e.kind, e.name, e.target, 'pending', e.input, e.event, e.attempts, e."dueAt", e."leaseOwner",
      e."leaseUntil", coalesce(e.keyed, false)
  from made m cross join lateral jsonb_to_recordset(coalesce(m.effects, '[]'::jsonb))
    as e(id text, kind text, name text, target text, input jsonb, event jsonb, attempts int, "dueAt" timestamptz,
        "leaseOwner" text, "leaseUntil" timestamptz, keyed boolean)
), ob as (
  insert into sk_outbox (instance_id, seq, type, payload, created_at, published_at)
  select m.id, m.version, o.type, o.payload, m.at,
    case when exists (select 1 from sk_subscription s where ${SUBSCRIPTION_MATCHES('m.tenant', 'o.type')}) then null else m.at end
  from made m cross join lateral rows from (jsonb_to_recordset(coalesce(m.outbox, '[]'::jsonb)) as (type text, payload jsonb))
    with ordinality as o(type, payload, n)
  order by m.i, o.n
  returning id, instance_id, type, created_at
), dl as (
  ${INSERT_DELIVERIES('made', 'id')}
), dl_note as (
  select pg_notify('${WAKEUP_CHANNEL}', json_build_object('o', $2::text, 'd', 1)::text) from (select 1 from dl limit 1) x
), started as (
  update sk_effect e set due_at = null from made m where e.id = m.started_by
), task_opened as (
  insert into sk_task (id, instance_id, tenant, machine_id, state, title, description, event, roles, assignee, form, due_at,
      status, created_at)
  select t.id, m.id, t.tenant, t."machineId", t.state, t.title, t.description, t.event, t.roles, t.assignee, t.form, t."dueAt", 'open', m.at
  from made m cross join lateral jsonb_to_recordset(coalesce(m.task_open, '[]'::jsonb)) as t(
    id text, tenant text, "machineId" text, state text, title text, description text, event text, roles jsonb, assignee text,
    form jsonb, "dueAt" timestamptz)
  on conflict (id) do nothing
), corr_set as (
  insert into sk_correlation (instance_id, key, tenant, machine_id, value, updated_at)
  select m.id, k.key, m.tenant, m.machine_id, k.value, m.at from made m cross join lateral jsonb_each_text(m.corr) k
  on conflict (instance_id, key) do update set value = excluded.value, updated_at = excluded.updated_at
)
select r.i, (m.id is not null) as created from req r left join made m on m.i = r.i
  cross join (select count(*) as dl_notes from dl_note) dn`;

/** A statement for a batch of writes of one kind, and how to read each write's outcome from its rows. */
export interface BatchSql<R> {
  /** Name of the server-side prepared statement (the driver prepares it once per connection). */
  name: string;
  sql: string;
  params: unknown[];
  read(rows: Row[]): R[];
}

const effectJson = (effects: CreateRequest['newEffects']) =>
  effects.length ? effects.map((e) => ({ ...e, dueAt: ts(e.dueAt), leaseUntil: ts(e.leaseUntil) })) : null;

const taskJson = (tasks: NewTask[]) => tasks.map((t) => ({ ...t, dueAt: ts(t.dueAt) }));

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
  return {
    name: 'sk_commit_v8',
    sql: COMMIT_SQL,
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

/** The statement creating `reqs`. */
export function createBatchSql(reqs: readonly CreateRequest[], origin: string): BatchSql<CreateResult> {
  const rows = reqs.map(({ record: r, event, newEffects, outbox, startedBy, tasks, priorEvents, correlation }, i) => ({
    i,
    id: r.id,
    tenant: r.tenant,
    machine_id: r.machineId,
    machine_version: r.machineVersion,
    status: r.status,
    state_value: r.stateValue,
    tags: r.tags,
    snapshot: r.snapshot,
    parent_id: r.parentId,
    parent_ref: r.parentRef,
    idempotency_key: r.idempotencyKey,
    input_hash: r.inputHash,
    output: r.output ?? null,
    error: r.error ?? null,
    trace_context: r.traceContext,
    restart_of: r.restartOf ?? null,
    fork_of: r.forkOf?.id ?? null,
    fork_of_seq: r.forkOf?.seq ?? null,
    version: r.version,
    prior: priorEvents?.length ? priorEvents.map((e) => ({ ...e, createdAt: ts(e.createdAt) })) : null,
    at: ts(r.createdAt),
    ev_type: event.type,
    ev_payload: event.payload ?? null,
    ev_source: event.source,
    ev_actor: event.actor,
    effects: effectJson(newEffects),
    outbox: outbox.length ? outbox : null,
    started_by: startedBy ?? null,
    task_open: tasks?.open.length ? taskJson(tasks.open) : null,
    corr: correlation ?? null,
  }));
  return {
    name: 'sk_create_v6',
    sql: CREATE_SQL,
    params: [JSON.stringify(rows), origin],
    read: (result) => {
      const byIndex = new Map(result.map((r) => [Number(r.i), r]));
      return reqs.map((_, i): CreateResult => (byIndex.get(i)?.created === true ? { ok: true } : { ok: false, reason: 'exists' }));
    },
  };
}
