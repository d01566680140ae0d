/** Read models of instances, shared by the runtime's query methods. */
import { createHash } from 'node:crypto';
import { __unsafe_getAllOwnEventDescriptors as getAllOwnEventDescriptors, type AnyMachineSnapshot } from 'xstate';
import { RuntimeError } from './errors.ts';
import { publicId } from './instance-ids.ts';
import type { LoadedInstance } from './instance-cache.ts';
import { requiredRoles } from './transition.ts';
import type { EffectRecord, InstanceRecord } from './ports.ts';
import type { InstanceView } from './types.ts';
import type { StepView, WorkflowStatus } from './workflow-status.ts';
import type { TaskRecord } from './tasks.ts';

/** An event the current state accepts, with the roles its `meta.roles` requires (if any). */
export interface AcceptedEvent {
  type: string;
  roles?: string[];
}

/** {@link Runtime.describe}'s result. */
export interface InstanceDetails extends InstanceView {
  /** pending, running, completed, failed, rolling_back, rolled_back, compensation_failed, cancelled. */
  workflowStatus: WorkflowStatus;
  acceptedEvents: AcceptedEvent[];
  /** Steps with status, attempts, errors, times, output and compensation (sagas: their declared steps). */
  steps: StepView[];
  /** Child instances (invoked machines). */
  children: { id: string; invokeId: string; machine: string | null; status: string }[];
  effects: EffectRecord[];
  /** Open human tasks of the instance (see `tasks.ts`). */
  tasks: TaskRecord[];
}

/** Events the active state nodes handle, with required roles. */
export function acceptedEventsOf(snapshot: AnyMachineSnapshot): AcceptedEvent[] {
  // Own events of the active nodes; internal xstate.* events (step results, timers) are not for callers.
  const types = [...new Set(getAllOwnEventDescriptors(snapshot) as string[])].filter((t) => !t.startsWith('xstate.') && t !== '*');
  return types.sort().map((type) => {
    const roles = requiredRoles(snapshot, type);
    return roles ? { type, roles } : { type };
  });
}

/** View of a loaded instance (context from the live snapshot). */
export function view(loaded: LoadedInstance): InstanceView {
  return { ...recordView(loaded.record), context: loaded.snapshot.context };
}

/** View of a stored row. */
export function recordView(r: InstanceRecord): InstanceView {
  return {
    id: publicId(r.tenant, r.id),
    tenant: r.tenant,
    machine: { id: r.machineId, version: r.machineVersion },
    status: r.status,
    value: r.stateValue,
    context: (r.snapshot as { context?: unknown } | null)?.context ?? null,
    tags: r.tags,
    output: r.output,
    error: r.error,
    version: r.version,
    parentId: r.parentId === null ? null : publicId(r.tenant, r.parentId),
    paused: r.paused,
    restartOf: r.restartOf === null ? null : publicId(r.tenant, r.restartOf),
    forkOf: r.forkOf ? { id: publicId(r.tenant, r.forkOf.id), seq: r.forkOf.seq } : null,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}

/** Fingerprint of a start request, to tell a repeat from a conflicting reuse of an idempotency key. */
export function hashInput(machineId: string, input: unknown): string {
  return createHash('sha256')
    .update(machineId)
    .update('\0')
    .update(JSON.stringify(input ?? null))
    .digest('hex')
    .slice(0, 32);
}

/** Opaque list cursor (instances, tasks): the last row's (createdAt, id). */
export function encodeCursor(r: Pick<InstanceRecord, 'createdAt' | 'id'>): string {
  return Buffer.from(JSON.stringify([r.createdAt.toISOString(), r.id])).toString('base64url');
}

/** Reads a cursor from {@link encodeCursor}; anything else is an invalid argument. */
export function decodeCursor(cursor: string, what = 'list'): { createdAt: Date; id: string } {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [string, string];
    const createdAt = new Date(at);
    if (typeof id !== 'string' || Number.isNaN(createdAt.getTime())) throw new Error('bad cursor');
    return { createdAt, id };
  } catch {
    throw RuntimeError.invalidArgument(what, 'cursor is not one this runtime returned');
  }
}
