import type { FaultSpec } from '../../lab/faults.ts';
import { createHttpLabControl } from '../../lab/http/http-lab-control.ts';
import { LAB_OPERATIONS, type SystemName } from '../../lab/operations.ts';

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;

/**
 * A random fault of a kind the lab supports, on a random operation: an error
 * before applying (retryable, sometimes not), latency long enough to time
 * steps out, or a lost response after applying.
 */
export function randomFault(): FaultSpec {
  const system = pick(Object.keys(LAB_OPERATIONS) as SystemName[]);
  const operation = pick(LAB_OPERATIONS[system] as readonly string[]);
  const kind = Math.random();
  if (kind < 0.35) return { system, operation, mode: 'fail', times: 1 + Math.floor(Math.random() * 2) } as FaultSpec;
  if (kind < 0.45) return { system, operation, mode: 'fail', times: 1, retryable: false } as FaultSpec;
  if (kind < 0.7) return { system, operation, mode: 'latency', times: 1, latencyMs: 500 + Math.floor(Math.random() * 30_000) } as FaultSpec;
  return { system, operation, mode: 'failAfterApply', times: 1 } as FaultSpec;
}

/** Injects a fault every `everyMs` until stopped; counts what it injected by mode. */
export function startFaults(labUrl: string, everyMs: number): { stop(): Promise<void>; injected: Record<string, number> } {
  const control = createHttpLabControl(labUrl);
  const injected: Record<string, number> = {};
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      await new Promise((r) => setTimeout(r, everyMs * (0.5 + Math.random())));
      if (stopped) break;
      const spec = randomFault();
      const ok = await control.faults.inject(spec).then(
        () => true,
        () => false,
      );
      const kind = spec.mode === 'fail' && spec.retryable === false ? 'fail (permanent)' : spec.mode;
      if (ok) injected[kind] = (injected[kind] ?? 0) + 1;
    }
  })();
  return {
    injected,
    async stop() {
      stopped = true;
      await loop;
      // Faults left over would fail the drain's work: the run ends on a healthy lab.
      await control.faults.clear().catch(() => {});
    },
  };
}
