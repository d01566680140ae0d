/**
 * CTEs the commit and the create statements share. `source` is a FROM clause whose rows `x` carry the
 * instance's `id`, the commit time `at` and the request's `effects` / `task_open` arrays.
 */

/** The new effect rows, pending. */
export const effectsCte = (source: string) => `eff as (
  insert into sk_effect (created_at, updated_at, id, instance_id, kind, name, target, status, input, event, attempts, due_at,
      lease_owner, lease_until, keyed)
  select x.at, x.at, e.id, x.id, e.kind, e.name, e.target, 'pending', e.input, e.event, e.attempts, e."dueAt", e."leaseOwner",
      e."leaseUntil", coalesce(e.keyed, false)
  from ${source} cross join lateral jsonb_to_recordset(coalesce(x.effects, '[]'::jsonb))
    as e(id text, kind text, name text, target text, input jsonb, event jsonb, attempts int, "dueAt" timestamptz,
        "leaseOwner" text, "leaseUntil" timestamptz, keyed boolean)
)`;

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
