import type { CreateRequest, CreateResult } from '../../runtime/ports.ts';
import { type BatchSql, FeatureStatements } from './batch-statement.ts';
import { chainedEvent, EVENT_COLUMNS, effectsCte, previousEvent, tasksOpenedCte } from './insert-ctes.ts';
import { instancesCountedCte } from './stats-delta-sql.ts';
import { outboxCtes } from './outbox-sql.ts';
import { effectJson, taskJson } from './request-json.ts';
import { ts } from './sql-values.ts';

/** What a batch of creates may need beyond the insert and the first history row. */
export type CreateFeature = 'prior' | 'effects' | 'outbox' | 'startedBy' | 'taskOpen' | 'correlation';
export const CREATE_FEATURES: readonly CreateFeature[] = ['prior', 'effects', 'outbox', 'startedBy', 'taskOpen', 'correlation'];

/** The first history row of each instance made, in {@link EVENT_COLUMNS} order. */
const EVENT_VALUES = 'm.id, m.version, m.ev_type, m.ev_payload, m.ev_source, m.ev_actor, m.state_value, true, null::text, m.at';

/**
 * The first commit of any number of instances as one statement: insert
 * (skipped when the id or the tenant's idempotency key exists), history row 1 (a fork: its copied history, then its own row),
 * effects, outbox, and clearing the due time of the parent's child effect. It counts the instances and steps it
 * inserts in the stats (stats-delta-sql.ts) and links the history rows it writes itself (insert-ctes.ts chainedEvent;
 * a fork's copied rows are linked by the chain trigger). Like the commit statement (commit-sql.ts), a CTE is written
 * only when a request of the batch needs it.
 */
// Exported for the test that prepares every text.
export const createText = (has: (f: CreateFeature) => boolean) => `with req as (
  select * from jsonb_to_recordset($1::jsonb) as r(
    i int, id text, tenant text, machine_id text, machine_version text, status text, state_value jsonb, tags jsonb, snapshot jsonb,
    parent_id text, parent_ref text, idempotency_key text, input_hash text, output jsonb, error jsonb, trace_context jsonb, at timestamptz,
    restart_of text, fork_of text, fork_of_seq int, version int, prior jsonb,
    ev_type text, ev_payload jsonb, ev_source text, ev_actor text, effects jsonb, outbox jsonb, started_by text, task_open jsonb,
    corr jsonb)
), ins as (
  insert into sk_instance (id, tenant, machine_id, machine_version, status, state_value, tags, snapshot, version, parent_id, parent_ref,
    idempotency_key, input_hash, output, error, trace_context, created_at, updated_at, restart_of, fork_of, fork_of_seq,
    counted_on_insert)
  select id, tenant, machine_id, machine_version, status, state_value, tags, snapshot, version, parent_id, parent_ref,
    idempotency_key, input_hash, output, error, trace_context, at, at, restart_of, fork_of, fork_of_seq, true
  from req order by i
  on conflict do nothing
  returning id, tenant, machine_id, status, output, created_at, updated_at
), ${instancesCountedCte('ins')}, made as (
  select r.* from req r join ins on ins.id = r.id
), ev as (${
  has('prior')
    ? `
  -- A fork's copied history (seq 1..n) and its own first row (n + 1) in one insert, in order: the chain trigger
  -- links each row to the one before it, which an earlier row of the same statement is.
  insert into sk_event (instance_id, seq, type, payload, source, actor, state_value, handled, idempotency_key, created_at)
  select x.* from (
    select m.id, p.seq, p.type, p.payload, p.source, p.actor, p."stateValue", p.handled, p."idempotencyKey", p."createdAt"
    from made m cross join lateral jsonb_to_recordset(coalesce(m.prior, '[]'::jsonb)) as p(seq int, type text, payload jsonb,
      source text, actor text, "stateValue" jsonb, handled boolean, "idempotencyKey" text, "createdAt" timestamptz)
    union all
    select id, version, ev_type, ev_payload, ev_source, ev_actor, state_value, true, null, at from made
  ) x order by 1, 2`
    : `
  insert into sk_event (${EVENT_COLUMNS}, prev_hash, hash)
  select ${chainedEvent(EVENT_VALUES)}
  from made m ${previousEvent('m.id', 'm.version')}`
}
)${has('effects') ? `, ${effectsCte('made x', 'made')}` : ''}${has('outbox') ? `, ${outboxCtes('made x', 'made')}` : ''}${
  has('startedBy')
    ? `, started as (
  update sk_effect e set due_at = null from made m where e.id = m.started_by
)`
    : ''
}${has('taskOpen') ? `, ${tasksOpenedCte('made x')}` : ''}${
  has('correlation')
    ? `, corr_set as (
  insert into sk_correlation (instance_id, key, tenant, machine_id, value, updated_at)
  select m.id, k.key, m.tenant, m.machine_id, k.value, m.at from made m cross join lateral jsonb_each_text(m.corr) k
  on conflict (instance_id, key) do update set value = excluded.value, updated_at = excluded.updated_at
)`
    : ''
}
select r.i, (m.id is not null) as created from req r left join made m on m.i = r.i${
  has('outbox') ? '\n  cross join (select count(*) as dl_notes from dl_note) dn' : ''
}`;

/** The statement texts, by the features a batch uses. */
const CREATE_STATEMENTS = new FeatureStatements('sk_create_v8', CREATE_FEATURES, createText);

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
  const used = new Set<CreateFeature>();
  for (const r of rows) {
    if (r.prior !== null) used.add('prior');
    if (r.effects !== null) used.add('effects');
    if (r.outbox !== null) used.add('outbox');
    if (r.started_by !== null) used.add('startedBy');
    if (r.task_open !== null) used.add('taskOpen');
    if (r.corr !== null) used.add('correlation');
  }
  const { name, sql, has } = CREATE_STATEMENTS.text(used);
  return {
    name,
    sql,
    // Only the outbox's notification names the origin ($2); a statement must use every parameter it is given.
    params: has('outbox') ? [JSON.stringify(rows), origin] : [JSON.stringify(rows)],
    read: (result) => {
      const byIndex = new Map(result.map((r) => [Number(r.i), r]));
      return reqs.map((_, i): CreateResult => (byIndex.get(i)?.created === true ? { ok: true } : { ok: false, reason: 'exists' }));
    },
  };
}
