import { randomUUID } from 'node:crypto';
import type { EventObject } from 'xstate';
import type { Engine } from './engine.ts';
import { derivableOriginal, freeDerivedKey } from './derived-instance.ts';
import { publicId } from './instance-ids.ts';
import type { InstanceStore } from './ports.ts';
import type { Registry } from './registry.ts';
import { RESTARTED_EVENT } from './transition.ts';
import type { Caller } from './types.ts';
import { hashInput } from './views.ts';

/** Options of {@link restartInstance}. */
export interface RestartOptions {
  readonly caller?: Caller;
  readonly reason?: string;
}

/**
 * Starts a fresh instance of the same machine version with the same input, linked to the original
 * (`restartOf`), whatever the original's status. The original's history records `statekeeper.restarted`
 * with the caller, the reason and the new id.
 *
 * @remarks An instance started with an idempotency key keeps answering that key with itself; the restart
 * takes `<key>#restart-<n>` (n = 1, 2, … the first one free), so a start repeated with the original key
 * still returns the original and only this explicit operator action makes a second run. A child instance
 * is restarted with its parent, not alone.
 */
export async function restartInstance(
  o: { engine: Engine; store: InstanceStore; registry: Registry },
  storedId: string,
  options: RestartOptions,
): Promise<string> {
  const { original, reg } = await derivableOriginal(o, storedId, 'restart');
  const [init] = await o.store.history(storedId, 0, 1);
  const input = (init?.payload as { input?: unknown } | null)?.input;
  const idempotencyKey = original.idempotencyKey
    ? await freeDerivedKey(o.store, original.tenant, original.idempotencyKey, 'restart')
    : null;
  const id = randomUUID();
  await o.engine.create({
    reg,
    id,
    tenant: original.tenant,
    input,
    idempotencyKey,
    // The original's fingerprint: the input read back from the store may list its keys in another order (jsonb).
    inputHash: original.inputHash ?? hashInput(reg.id, input),
    parentId: null,
    parentRef: null,
    caller: options.caller,
    restartOf: storedId,
  });
  const note = { type: RESTARTED_EVENT, restartedAs: publicId(original.tenant, id), ...(options.reason ? { reason: options.reason } : {}) };
  await o.engine.apply(storedId, note as EventObject, { source: 'operator', caller: options.caller, note: true });
  return id;
}

/** The first `<root>#restart-<n>` key the tenant has not used. */
