/**
 * Quarantine: an instance that cannot be run is marked and set aside instead
 * of failing every start-up, poll or request that touches it. Two kinds:
 *
 * - a transition that throws, loops past the microstep bound or runs too
 *   long: the machine's own `error` status (see `machine-snapshot.ts`), its
 *   error stored with a `code` (`transition_failed`, …);
 * - a stored snapshot the registered machine cannot restore (a state it no
 *   longer has, an unreadable snapshot): committed here as status `error`
 *   with code `incompatible_snapshot` and `quarantine: 'restore_failed'`, the
 *   snapshot kept as it was.
 *
 * Either way the instance is visible (status `error`, the error with its
 * code; the list filter `status=error`; `statekeeper_instances_failed_total`
 * by code), its open effects stay open but are neither run nor claimed by the
 * poller (`claimDue` skips instances in error), and an operator
 * retry after a fix restores it with the newest registered version of its
 * machine and re-applies the event that failed.
 */
import type { AnyMachineSnapshot, EventObject } from 'xstate';
import type { ChangeFeed } from './change-feed.ts';
import { noEffects } from './effect-plan.ts';
import { IncompatibleSnapshotError, serializeError } from './errors.ts';
import type { InstanceCache, LoadedInstance } from './instance-cache.ts';
import { publicId } from './instance-ids.ts';
import { restore } from './machine-snapshot.ts';
import type { Clock, InstanceRecord, InstanceStore } from './ports.ts';
import type { RegisteredMachine } from './registry.ts';
import { decodeStored } from './stored-values.ts';

/** History type of the commit that quarantines an instance whose snapshot cannot be restored. */
export const QUARANTINE_EVENT = 'statekeeper.quarantine';
/** History type of the commit of an operator retry that brings an instance in `error` back. */
export const REVIVE_EVENT = 'statekeeper.revive';

/** What the quarantine needs from the engine. */
export interface QuarantineDeps {
  readonly store: InstanceStore;
  readonly clock: Clock;
  readonly instances: InstanceCache;
  readonly feed: ChangeFeed;
}

/**
 * Loads an instance; one that is active but whose snapshot cannot be restored is quarantined first (one
 * commit), then loaded as the `error` instance it now is (which nothing runs), or with `rethrow` the
 * restore error is thrown after the quarantine.
 */
export async function loadOrQuarantine(d: QuarantineDeps, id: string, opts: { rethrow?: boolean } = {}): Promise<LoadedInstance> {
  try {
    return await d.instances.load(id);
  } catch (e) {
    if (!(e instanceof IncompatibleSnapshotError)) throw e;
    await quarantine(d, id, e);
    // A caller's request is answered with the reason (an effect's delivery just leaves it open).
    if (opts.rethrow) throw e;
    return d.instances.load(id);
  }
}

async function quarantine(d: QuarantineDeps, id: string, e: IncompatibleSnapshotError): Promise<void> {
  const record = await d.store.get(id);
  if (record?.status !== 'active') return;
  const now = d.clock.now();
  const error = { ...serializeError(e), quarantine: 'restore_failed' };
  const res = await d.store.commit({
    instanceId: id,
    expectedVersion: record.version,
    // The snapshot is kept as it was: a retry restores it with a fixed machine.
    change: { snapshot: record.snapshot, status: 'error', stateValue: record.stateValue, tags: record.tags, output: null, error },
    event: {
      type: QUARANTINE_EVENT,
      payload: { reason: 'restore_failed', message: e.message },
      source: 'system',
      actor: null,
      handled: true,
      idempotencyKey: null,
    },
    ...noEffects(),
    // Set aside, it is found by no business key until an operator brings it back.
    correlation: null,
    now,
  });
  d.instances.evict(id);
  if (!res.ok) return; // someone else changed (or quarantined) it first
  d.feed.emit({
    instanceId: publicId(record.tenant, id),
    tenant: record.tenant,
    version: res.version,
    value: record.stateValue,
    status: 'error',
    tags: record.tags,
    eventType: QUARANTINE_EVENT,
    source: 'system',
  });
}

/**
 * The snapshot an instance in `error` resumes from with `reg` (its machine's newest version): the stored
 * one (the state before the failed event, or the unrestorable one) as active.
 * @throws IncompatibleSnapshotError when `reg` cannot restore it either (not fixed yet).
 */
export function revivedSnapshot(record: InstanceRecord, reg: RegisteredMachine): AnyMachineSnapshot {
  const { error: _error, ...stored } = (record.snapshot ?? {}) as Record<string, unknown>;
  return restore(
    reg.machine,
    { ...stored, status: 'active' },
    { instanceId: record.id, machineRef: reg.ref, withParent: record.parentId !== null },
  );
}

/** The event whose transition failed (the last in history), to apply again; none for a restore failure. */
export async function failedEvent(store: InstanceStore, record: InstanceRecord): Promise<EventObject | undefined> {
  if ((record.error as { quarantine?: unknown } | null)?.quarantine === 'restore_failed') return undefined;
  const [last] = await store.history(record.id, record.version - 1, 1);
  if (!last || last.type === 'xstate.init' || last.type.startsWith('statekeeper.')) return undefined;
  return { type: last.type, ...((decodeStored(last.payload) as Record<string, unknown> | null) ?? {}) };
}
