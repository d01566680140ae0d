import type { InstanceDetails, Runtime } from '../runtime/index.ts';

/** Longest `?timeoutMs` a request may wait for. */
export const MAX_WAIT_MS = 30_000;

/**
 * Waits (wall time, at most `timeoutMs`) until the instance has settled: it
 * has finished, or no step runs and every open child has settled in turn, so
 * it waits for an event or a timer. Woken by committed changes, with a poll
 * as a backstop for changes committed by another process.
 */
export async function waitUntilSettled(runtime: Runtime, id: string, tenant: string, timeoutMs: number, pollMs = 250): Promise<{ details: InstanceDetails; settled: boolean }> {
  const deadline = Date.now() + Math.min(timeoutMs, MAX_WAIT_MS);
  let dirty = false;
  let wake: (() => void) | undefined;
  const unsubscribe = runtime.subscribe((change) => {
    if (change.tenant !== tenant) return;
    dirty = true;
    wake?.();
  });
  try {
    for (;;) {
      dirty = false;
      const details = await describeConsistent(runtime, id, tenant);
      if (await settledDeep(runtime, details, tenant, 0)) return { details, settled: true };
      const left = deadline - Date.now();
      if (left <= 0) return { details, settled: false };
      if (dirty) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, pollMs));
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
  } finally {
    unsubscribe();
  }
}

/**
 * `runtime.describe` reads the instance, its state and its effects one after
 * the other; a commit in between would mix two versions. Reading the version
 * again afterwards tells whether one did (versions only grow).
 */
export async function describeConsistent(runtime: Runtime, id: string, tenant: string): Promise<InstanceDetails> {
  for (let attempt = 0; ; attempt++) {
    const details = await runtime.describe(id, { tenant });
    if (attempt >= 20 || (await runtime.get(id, { tenant })).version === details.version) return details;
  }
}

async function settledDeep(runtime: Runtime, d: InstanceDetails, tenant: string, depth: number): Promise<boolean> {
  if (d.status !== 'active') return true;
  if (d.effects.some((e) => e.status === 'pending' && e.kind === 'step')) return false;
  for (const e of d.effects) {
    if (e.status !== 'pending' || e.kind !== 'child') continue;
    // A child effect whose instance does not exist yet is still starting.
    const child = await describeConsistent(runtime, e.id, tenant).catch(() => undefined);
    if (!child || depth > 16 || !(await settledDeep(runtime, child, tenant, depth + 1))) return false;
  }
  return true;
}
