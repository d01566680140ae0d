import type { Runtime } from '../runtime/index.ts';
import { COMPENSATION_FAILED_TAG, safeObserver, type RuntimeObserver, type StateInfo } from '../runtime/observer.ts';
import type { InstanceChange, InstanceView } from '../runtime/types.ts';

/** Options of {@link observeChanges}. */
export interface ObserveChangesOptions {
  /** Read every changed instance (context, output) rather than only at start, finish and failed undo (the live inspector needs it). */
  everyChange?: boolean;
  /** Receives read failures (default: ignored). */
  onError?: (e: unknown) => void;
}

/**
 * Feeds a {@link RuntimeObserver} from the runtime's committed changes
 * (`runtime.subscribe`): starts, finishes (with the saga outcome), failed
 * compensations and, with `everyChange`, each transition with its context.
 *
 * @remarks A change names the instance, the event, the new state and tags,
 * not the machine nor the output: the instance is read once when it starts
 * (to learn its machine), when it finishes (its outcome) and when it enters
 * `compensation_failed`, so steady-state events cost no read. Step attempts,
 * timers, claims and commit batches are not changes: they need the runtime to
 * call the observer itself.
 */
export function observeChanges(runtime: Runtime, observer: RuntimeObserver, options: ObserveChangesOptions = {}): () => void {
  const sink = safeObserver(observer);
  // Last known state of instances seen active, to tell what a change entered.
  const last = new Map<string, StateInfo & { machineId: string; machineVersion: string; parentId: string | null }>();
  // Public ids are unique per tenant only.
  const keyOf = (c: InstanceChange) => `${c.tenant}\u0000${c.instanceId}`;
  const report = async (c: InstanceChange) => {
    const before = last.get(keyOf(c));
    const entersFailedUndo = c.tags.includes(COMPENSATION_FAILED_TAG) && !(before?.tags.includes(COMPENSATION_FAILED_TAG) ?? false);
    const needsRead = options.everyChange || c.eventType === 'xstate.init' || !before || c.status !== 'active' || entersFailedUndo;
    const view: Pick<InstanceView, 'machine' | 'context' | 'output' | 'error' | 'parentId'> | undefined = needsRead
      ? await runtime.get(c.instanceId, { tenant: c.tenant })
      : {
          machine: { id: before.machineId, version: before.machineVersion },
          context: undefined,
          output: null,
          error: null,
          parentId: before.parentId,
        };
    const after = { value: c.value, tags: c.tags, status: c.status, context: view.context, output: view.output, error: view.error };
    if (c.status === 'active') {
      last.set(keyOf(c), {
        value: c.value,
        tags: c.tags,
        status: c.status,
        machineId: view.machine.id,
        machineVersion: view.machine.version,
        parentId: view.parentId,
      });
    } else last.delete(keyOf(c));
    sink.transition({
      instanceId: c.instanceId,
      tenant: c.tenant,
      machineId: view.machine.id,
      machineVersion: view.machine.version,
      parentId: view.parentId,
      event: { type: c.eventType },
      before: c.eventType === 'xstate.init' ? null : (before ?? { value: undefined, tags: [], status: 'active' }),
      after,
      handled: true,
      source: c.source,
      durationMs: c.durationMs,
    });
  };
  // One instance's changes are reported in commit order: chain them per instance.
  const queues = new Map<string, Promise<void>>();
  return runtime.subscribe((c) => {
    const key = keyOf(c);
    const prev = queues.get(key) ?? Promise.resolve();
    const next = prev.then(() => report(c)).catch((e) => options.onError?.(e));
    queues.set(key, next);
    void next.finally(() => queues.get(key) === next && queues.delete(key));
  });
}
