import type { CommitRequest, CommitResult, CreateRequest, CreateResult } from '../../runtime/ports.ts';
import type { Row } from './rows.ts';

export const json = (v: unknown): string | null => (v === undefined || v === null ? null : JSON.stringify(v));
export const ts = (d: Date | null | undefined): string | null => (d ? d.toISOString() : null);

/**
 * One write as SQL fragments: data-modifying CTEs suffixed with `_<n>` so
 * several writes can share one statement, and the select columns that report
 * the outcome. `params` are in placeholder order.
 */
export interface WriteSql {
  ctes: string[];
  columns: string[];
  params: unknown[];
  read(row: Row): CommitResult | CreateResult;
}

/** The first commit of an instance: insert (unless id or idempotency key exists) + history row 1 + effects + outbox. */
export function createSql(req: CreateRequest, n: number): WriteSql {
  const r = req.record;
  const ins = `ins_${n}`;
  const params: unknown[] = [
    r.id, r.tenant, r.machineId, r.machineVersion, r.status, json(r.stateValue), json(r.tags), json(r.snapshot),
    r.parentId, r.parentRef, r.idempotencyKey, r.inputHash, json(r.output), json(r.error), json(r.traceContext), ts(r.createdAt), ts(r.updatedAt),
    req.event.type, json(req.event.payload), req.event.source, req.event.actor, json(r.stateValue),
  ];
  const ctes = [
    `${ins} as (insert into sk_instance (id, tenant, machine_id, machine_version, status, state_value, tags, snapshot, version, parent_id, parent_ref, idempotency_key, input_hash, output, error, trace_context, created_at, updated_at)
      values (?, ?, ?, ?, ?, ?::jsonb, ?::jsonb, ?::jsonb, 1, ?, ?, ?, ?, ?::jsonb, ?::jsonb, ?::jsonb, ?::timestamptz, ?::timestamptz)
      on conflict do nothing returning id, version, created_at as at)`,
    `ev_${n} as (insert into sk_event (instance_id, seq, type, payload, source, actor, state_value, handled, idempotency_key, created_at)
      select id, 1, ?, ?::jsonb, ?, ?, ?::jsonb, true, null, at from ${ins})`,
  ];
  ctes.push(...effectCtes(req.newEffects, params, ins, n), ...outboxCtes(req.outbox, params, ins, n));
  if (req.startedBy) {
    ctes.push(`started_${n} as (update sk_effect set due_at = null where id = ? and exists (select 1 from ${ins}))`);
    params.push(req.startedBy);
  }
  return {
    ctes,
    params,
    columns: [`(select count(*) from ${ins})::int as n_${n}`],
    read: (row) => (Number(row[`n_${n}`]) === 1 ? { ok: true } : { ok: false, reason: 'exists' }),
  };
}

/**
 * One event's commit: the version-checked snapshot update, then (only if it
 * matched) history, effect close, cancellations, new effects and outbox.
 */
export function commitSql(req: CommitRequest, n: number): WriteSql {
  const c = req.change;
  const now = ts(req.now);
  const upd = `upd_${n}`;
  const closeId = req.closeEffect?.id ?? null;
  // Placeholder order: the update's set and where clauses, its "returning ? as at", then the history insert.
  const params: unknown[] = [json(c.snapshot), c.status, json(c.stateValue), json(c.tags), json(c.output), json(c.error), now, req.instanceId, req.expectedVersion, closeId, closeId, now];
  params.push(req.event.type, json(req.event.payload), req.event.source, req.event.actor, json(c.stateValue), req.event.handled, req.event.idempotencyKey);
  const ctes = [
    `${upd} as (update sk_instance set snapshot = ?::jsonb, status = ?, state_value = ?::jsonb, tags = ?::jsonb, output = ?::jsonb, error = ?::jsonb, version = version + 1, updated_at = ?::timestamptz
      where id = ? and version = ? and (?::text is null or exists (select 1 from sk_effect where id = ? and status = 'pending'))
      returning id, version, ?::timestamptz as at)`,
    `ev_${n} as (insert into sk_event (instance_id, seq, type, payload, source, actor, state_value, handled, idempotency_key, created_at)
      select id, version, ?, ?::jsonb, ?, ?, ?::jsonb, ?, ?, at from ${upd})`,
    // Read before any change of this statement: tells a closed effect from a version conflict.
    `chk_${n} as (select status from sk_effect where id = ?)`,
  ];
  params.push(closeId);
  if (req.closeEffect) {
    const e = req.closeEffect;
    ctes.push(`closed_${n} as (update sk_effect set status = ?, result = ?::jsonb, error = ?::jsonb, closed_at = ${upd}.at, updated_at = ${upd}.at, lease_owner = null, lease_until = null
      from ${upd} where sk_effect.id = ?)`);
    params.push(e.status, json(e.result), json(e.error), e.id);
  }
  if (req.cancel.length) {
    // Never the row being closed: two CTEs updating one row leave only one change.
    ctes.push(`cancelled_${n} as (update sk_effect set status = 'cancelled', closed_at = ${upd}.at, updated_at = ${upd}.at
      from ${upd} where sk_effect.instance_id = ? and sk_effect.status = 'pending' and sk_effect.id is distinct from ?
        and (case sk_effect.kind when 'timer' then 'timer:' when 'send' then 'send:' else 'actor:' end || sk_effect.name) in (select jsonb_array_elements_text(?::jsonb)))`);
    params.push(req.instanceId, closeId, JSON.stringify(req.cancel));
  }
  ctes.push(...effectCtes(req.newEffects, params, upd, n), ...outboxCtes(req.outbox, params, upd, n));
  return {
    ctes,
    params,
    columns: [`(select version from ${upd}) as v_${n}`, `(select status from chk_${n}) as es_${n}`],
    read: (row) => {
      const v = row[`v_${n}`];
      if (v != null) return { ok: true, version: Number(v) };
      if (closeId && row[`es_${n}`] !== 'pending') return { ok: false, reason: 'effect_closed' };
      return { ok: false, reason: 'version_conflict' };
    },
  };
}

function effectCtes(effects: CreateRequest['newEffects'], params: unknown[], from: string, n: number): string[] {
  if (!effects.length) return [];
  params.push(JSON.stringify(effects.map((e) => ({ ...e, dueAt: ts(e.dueAt), leaseUntil: ts(e.leaseUntil) }))));
  return [
    `eff_${n} as (insert into sk_effect (created_at, updated_at, id, instance_id, kind, name, target, status, input, event, attempts, due_at, lease_owner, lease_until)
      select ${from}.at, ${from}.at, e.id, ${from}.id, e.kind, e.name, e.target, 'pending', e.input, e.event, e.attempts, e."dueAt", e."leaseOwner", e."leaseUntil"
      from ${from}, jsonb_to_recordset(?::jsonb) as e(id text, kind text, name text, target text, input jsonb, event jsonb, attempts int, "dueAt" timestamptz, "leaseOwner" text, "leaseUntil" timestamptz))`,
  ];
}

function outboxCtes(items: CreateRequest['outbox'], params: unknown[], from: string, n: number): string[] {
  if (!items.length) return [];
  params.push(JSON.stringify(items));
  return [
    `ob_${n} as (insert into sk_outbox (instance_id, seq, type, payload, created_at)
      select ${from}.id, ${from}.version, o.type, o.payload, ${from}.at from ${from}, jsonb_to_recordset(?::jsonb) as o(type text, payload jsonb))`,
  ];
}

/** Joins writes into one statement; its single row carries every write's outcome columns. */
export function combine(writes: WriteSql[]): { sql: string; params: unknown[] } {
  const ctes = writes.flatMap((w) => w.ctes);
  const params = writes.flatMap((w) => w.params);
  return { sql: `with ${ctes.join(',\n')}\nselect ${writes.flatMap((w) => w.columns).join(', ')}`, params };
}
