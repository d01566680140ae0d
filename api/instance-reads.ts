import type { InstanceDetails, Runtime } from '../runtime/index.ts';

/** Longest `?timeoutMs` a request may wait for. */
export const MAX_WAIT_MS = 30_000;

/**
 * Waits (wall time, at most `timeoutMs`) until the instance has settled: it
 * has finished, or no step runs and every open child has settled in turn, so
 * it waits for an event or a timer. Uses the runtime's one wait loop: woken by
 * the tenant's committed changes, with a poll for changes of another process.
 */
export async function waitUntilSettled(
  runtime: Runtime,
  id: string,
  tenant: string,
  timeoutMs: number,
  pollMs = 250,
): Promise<{ details: InstanceDetails; settled: boolean }> {
  const settled = await runtime.waitUntil(
    async () => {
      const details = await runtime.describe(id, { tenant });
      return (await settledDeep(runtime, details, tenant, 0)) ? details : undefined;
    },
    { tenant, timeoutMs: Math.min(timeoutMs, MAX_WAIT_MS), pollMs },
  );
  return settled ? { details: settled, settled: true } : { details: await runtime.describe(id, { tenant }), settled: false };
}

async function settledDeep(runtime: Runtime, d: InstanceDetails, tenant: string, depth: number): Promise<boolean> {
  if (d.status !== 'active') return true;
  if (d.effects.some((e) => e.status === 'pending' && e.kind === 'step')) return false;
  for (const e of d.effects) {
    if (e.status !== 'pending' || e.kind !== 'child') continue;
    // A child effect whose instance does not exist yet is still starting.
    const child = await runtime.describe(e.id, { tenant }).catch(() => undefined);
    if (!child || depth > 16 || !(await settledDeep(runtime, child, tenant, depth + 1))) return false;
  }
  return true;
}
