import type { EffectRecord, EventRecord, InstanceRecord } from '../../runtime/ports.ts';
import type { TaskRecord } from '../../runtime/tasks.ts';

/** A raw row as the driver returns it (snake_case columns). */
export type Row = Record<string, unknown>;

const date = (v: unknown): Date => (v instanceof Date ? v : new Date(String(v)));
const dateOrNull = (v: unknown): Date | null => (v == null ? null : date(v));

/** Maps an `sk_instance` row. */
export function toInstance(r: Row): InstanceRecord {
  return {
    id: String(r.id),
    tenant: String(r.tenant),
    machineId: String(r.machine_id),
    machineVersion: String(r.machine_version),
    status: r.status as InstanceRecord['status'],
    stateValue: r.state_value,
    tags: (r.tags as string[]) ?? [],
    snapshot: r.snapshot,
    version: Number(r.version),
    parentId: (r.parent_id as string) ?? null,
    parentRef: (r.parent_ref as string) ?? null,
    idempotencyKey: (r.idempotency_key as string) ?? null,
    inputHash: (r.input_hash as string) ?? null,
    output: r.output ?? null,
    error: r.error ?? null,
    traceContext: (r.trace_context as Record<string, string>) ?? null,
    paused: r.paused === true,
    restartOf: (r.restart_of as string) ?? null,
    forkOf: r.fork_of == null ? null : { id: String(r.fork_of), seq: Number(r.fork_of_seq) },
    createdAt: date(r.created_at),
    updatedAt: date(r.updated_at),
  };
}

/** Maps an `sk_effect` row. */
export function toEffect(r: Row): EffectRecord {
  return {
    id: String(r.id),
    instanceId: String(r.instance_id),
    kind: r.kind as EffectRecord['kind'],
    name: String(r.name),
    target: (r.target as string) ?? null,
    status: r.status as EffectRecord['status'],
    input: r.input ?? null,
    event: r.event ?? null,
    attempts: Number(r.attempts),
    dueAt: dateOrNull(r.due_at),
    leaseOwner: (r.lease_owner as string) ?? null,
    leaseUntil: dateOrNull(r.lease_until),
    result: r.result ?? null,
    error: r.error ?? null,
    lastError: r.last_error ?? null,
    createdAt: date(r.created_at),
    updatedAt: date(r.updated_at),
    closedAt: dateOrNull(r.closed_at),
    keyed: r.keyed === true,
  };
}

/** Maps an `sk_event` row. */
export function toEvent(r: Row): EventRecord {
  return {
    instanceId: String(r.instance_id),
    seq: Number(r.seq),
    type: String(r.type),
    payload: r.payload ?? null,
    source: r.source as EventRecord['source'],
    actor: (r.actor as string) ?? null,
    stateValue: r.state_value,
    handled: Boolean(r.handled),
    idempotencyKey: (r.idempotency_key as string) ?? null,
    createdAt: date(r.created_at),
  };
}

/** Maps an `sk_task` row. */
export function toTask(r: Row): TaskRecord {
  return {
    id: String(r.id),
    instanceId: String(r.instance_id),
    tenant: String(r.tenant),
    machineId: String(r.machine_id),
    state: String(r.state),
    title: String(r.title),
    description: (r.description as string) ?? null,
    event: String(r.event),
    roles: (r.roles as string[]) ?? [],
    assignee: (r.assignee as string) ?? null,
    form: (r.form as Record<string, unknown>) ?? null,
    dueAt: dateOrNull(r.due_at),
    status: r.status as TaskRecord['status'],
    claimedBy: (r.claimed_by as string) ?? null,
    claimedAt: dateOrNull(r.claimed_at),
    createdAt: date(r.created_at),
    closedAt: dateOrNull(r.closed_at),
    closedBy: (r.closed_by as string) ?? null,
  };
}
