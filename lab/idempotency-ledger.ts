import { LabState } from './lab-state.ts';
import type { SystemName } from './operations.ts';

/**
 * Results of mutating calls by idempotency key, so that a repeated call
 * returns the first result and changes nothing.
 *
 * @remarks Keys are scoped by `system.operation`. The first call with a key
 * wins: a repeat returns its result even when the request differs, as a
 * payment API with an `Idempotency-Key` header does for a retried request
 * (the lab does not compare request bodies). A call that fails before it
 * applies anything records nothing, so its retry runs again. A concurrent
 * repeat waits for the first call and shares its outcome. Results are cloned
 * on the way out, so callers cannot change what was recorded. Each result is
 * stored by the {@link LabState} in the same transaction as the records the
 * call changed, so on Postgres the ledger outlives the process.
 */
export class IdempotencyLedger {
  private readonly entries = new Map<string, Promise<unknown>>();

  constructor(private readonly state: LabState = new LabState()) {}

  /** Runs `apply` once per `system.operation` and `key`; later calls get the recorded result. */
  async run<T>(system: SystemName, operation: string, key: string, apply: () => Promise<T>): Promise<{ value: T; replayed: boolean }> {
    await this.ready(system, operation);
    const id = `${system}.${operation}\u0000${key}`;
    const recorded = this.entries.get(id) as Promise<T> | undefined;
    if (recorded) return { value: structuredClone(await recorded), replayed: true };
    const pending = this.state.transact({ system, operation, key }, apply);
    this.entries.set(id, pending);
    try {
      return { value: structuredClone(await pending), replayed: false };
    } catch (error) {
      // Nothing was applied: forget the key so a retry runs again.
      if (this.entries.get(id) === pending) this.entries.delete(id);
      throw error;
    }
  }

  /**
   * The result recorded for the key (waiting for a call still in flight), or
   * `undefined` when no call with the key applied.
   */
  async recorded(system: SystemName, operation: string, key: string): Promise<{ value: unknown } | undefined> {
    await this.ready(system, operation);
    const recorded = this.entries.get(`${system}.${operation}\u0000${key}`);
    if (!recorded) return undefined;
    try {
      return { value: structuredClone(await recorded) };
    } catch {
      // The call failed before applying: its entry is being forgotten.
      return undefined;
    }
  }

  /** Whether a result is recorded (or pending) for the key. */
  has(scope: string, key: string): boolean {
    return this.entries.has(`${scope}\u0000${key}`);
  }

  /** Number of recorded keys. */
  get size(): number {
    return this.entries.size;
  }

  /** Forgets every recorded result (the store is emptied by {@link LabState.reset}). */
  clear(): void {
    this.entries.clear();
  }

  /** Waits for the store's load and takes over the results it found (once: later calls find nothing new). */
  async ready(system: SystemName | 'lab', operation: string): Promise<void> {
    await this.state.ready(system, operation);
    for (const row of this.state.takeLoadedLedger()) {
      this.entries.set(`${row.scope}\u0000${row.key}`, Promise.resolve(row.result));
    }
  }
}
