import type { OperationName, SystemName } from './operations.ts';

/**
 * Counts every call to every lab operation, successful or not.
 *
 * @example
 * ```ts
 * expect(lab.calls.count('onu', 'activate')).toBe(3);
 * ```
 */
export class CallCounter {
  private readonly counts = new Map<string, number>();

  /** Counts one call. */
  record(system: SystemName, operation: string): void {
    const key = `${system}.${operation}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  /** Calls made to one operation, or to every operation of the system when `operation` is omitted. */
  count<S extends SystemName>(system: S, operation?: OperationName<S>): number {
    if (operation !== undefined) return this.counts.get(`${system}.${operation}`) ?? 0;
    let total = 0;
    for (const [key, n] of this.counts) if (key.startsWith(`${system}.`)) total += n;
    return total;
  }

  /** Every non-zero count, keyed `system.operation`. */
  all(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort(([a], [b]) => a.localeCompare(b)));
  }

  /** Sets every count back to zero. */
  reset(): void {
    this.counts.clear();
  }
}
