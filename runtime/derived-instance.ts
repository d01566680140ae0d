import { RuntimeError } from './errors.ts';
import type { InstanceRecord, InstanceStore } from './ports.ts';
import type { RegisteredMachine, Registry } from './registry.ts';

/**
 * The original of an operator action that starts a new instance from an existing one (restart, fork):
 * a top-level instance whose machine version is registered here. A child instance is acted on with its
 * parent, never alone.
 */
export async function derivableOriginal(
  o: { store: InstanceStore; registry: Registry },
  storedId: string,
  action: 'restart' | 'fork',
): Promise<{ original: InstanceRecord; reg: RegisteredMachine }> {
  const original = await o.store.get(storedId);
  if (!original) throw RuntimeError.instanceNotFound(storedId);
  if (original.parentId) {
    throw RuntimeError.invalidArgument(action, `instance "${storedId}" is a child instance; ${action} its parent instead`, {
      instanceId: storedId,
    });
  }
  const reg = o.registry.find(original.machineId, original.machineVersion);
  if (!reg) {
    throw new RuntimeError(
      'machine_version_not_found',
      `Instance "${storedId}" runs ${original.machineId}@${original.machineVersion}, which is not registered here.`,
      { machine: original.machineId, version: original.machineVersion },
    );
  }
  return { original, reg };
}

/**
 * The idempotency key of a derived instance: `<root>#<action>-<n>`, the first n free in the tenant, where the
 * root is the original's key without its own `#<action>-<n>` suffix. The original keeps answering its key.
 */
export async function freeDerivedKey(store: InstanceStore, tenant: string, key: string, action: 'restart' | 'fork'): Promise<string> {
  const root = key.replace(new RegExp(`#${action}-\\d+$`), '');
  for (let n = 1; ; n++) {
    const candidate = `${root}#${action}-${n}`;
    if (!(await store.getByIdempotencyKey(tenant, candidate))) return candidate;
  }
}
