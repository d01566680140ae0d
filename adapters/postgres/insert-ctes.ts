import { stepsCountedCte } from './stats-delta-sql.ts';

/**
 * CTEs the commit and the create statements share. `source` is a FROM clause whose rows `x` carry the
 * instance's `id`, the commit time `at` and the request's `effects` / `task_open` arrays.
 */

/** The new effect rows, pending, and the step runs they add to the stats; `owners` has each instance's `id` and `tenant`. */
export const effectsCte = (source: string, owners: string) => `eff as (
  insert into sk_effect (created_at, updated_at, id, instance_id, kind, name, target, status, input, event, attempts, due_at,
      lease_owner, lease_until, keyed, counted_on_insert)
  select x.at, x.at, e.id, x.id, e.kind, e.name, e.target, 'pending', e.input, e.event, e.attempts, e."dueAt", e."leaseOwner",
      e."leaseUntil", coalesce(e.keyed, false), true
  from ${source} cross join lateral jsonb_to_recordset(coalesce(x.effects, '[]'::jsonb))
    as e(id text, kind text, name text, target text, input jsonb, event jsonb, attempts int, "dueAt" timestamptz,
        "leaseOwner" text, "leaseUntil" timestamptz, keyed boolean)
  returning instance_id, kind, name, target, status, attempts
), ${stepsCountedCte('eff', owners)}`;

/** The human tasks of the states entered (tasks.ts diffTasks); an id already stored is kept. */
export const tasksOpenedCte = (source: string) => `task_opened as (
  insert into sk_task (id, instance_id, tenant, machine_id, state, title, description, event, roles, assignee, form, due_at,
      status, created_at)
  select t.id, x.id, t.tenant, t."machineId", t.state, t.title, t.description, t.event, t.roles, t.assignee, t.form, t."dueAt", 'open', x.at
  from ${source} cross join lateral jsonb_to_recordset(coalesce(x.task_open, '[]'::jsonb)) as t(
    id text, tenant text, "machineId" text, state text, title text, description text, event text, roles jsonb, assignee text,
    form jsonb, "dueAt" timestamptz)
  on conflict (id) do nothing
)`;

/** The history row's columns, in the order of {@link chainedEvent}'s values. */
export const EVENT_COLUMNS = 'instance_id, seq, type, payload, source, actor, state_value, handled, idempotency_key, created_at';

/**
 * A history row's values followed by its chain links, `prev_hash` and `hash`, computed by the statement as the
 * chain trigger would (migration 20261201-history-chain: the previous row's hash, then `sk_event_digest`).
 * `values` are the {@link EVENT_COLUMNS} expressions, comma-separated; the row before is `p`, joined by
 * {@link previousEvent}. A row given its hash skips the trigger (migration 20261210-history-chain-in-statements),
 * which saves a plpgsql call and its lookup per row. The previous row is committed before this statement starts:
 * its instance's version, which this commit checks, was read after it.
 */
export const chainedEvent = (values: string) => `${values}, p.hash, sk_event_digest(p.hash, ${values})`;

/** The row before `seq` of instance `id`, as `p`: one index lookup per row (offset 0 keeps it one, never a join). */
export const previousEvent = (id: string, seq: string) =>
  `left join lateral (select e.hash from sk_event e where e.instance_id = ${id} and e.seq = ${seq} - 1 offset 0) p on true`;
