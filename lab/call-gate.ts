import type { CallOptions } from '../actors/clients/index.ts';
import { LabError } from './errors.ts';
import type { CallCounter } from './call-counter.ts';
import type { FaultInjector } from './faults.ts';
import type { IdempotencyLedger } from './idempotency-ledger.ts';
import type { SystemName } from './operations.ts';

/**
 * The path every lab call takes: count, faults, idempotency, apply.
 *
 * @remarks Order matters. A `fail` fault throws before the ledger is read,
 * as a request that never reached the system. A `failAfterApply` fault
 * throws after the result is recorded, so the retry with the same key gets
 * the recorded result and the system holds one record.
 */
export class CallGate {
  constructor(
    private readonly counter: CallCounter,
    private readonly faults: FaultInjector,
    private readonly ledger: IdempotencyLedger,
  ) {}

  /** Runs a mutating operation, at most once per idempotency key. */
  async mutate<T>(system: SystemName, operation: string, o: CallOptions, apply: () => T | Promise<T>): Promise<T> {
    // A lookup by key is not counted (see `lookup`): counts are of calls that could apply something.
    if (!o?.lookupOnly) this.counter.record(system, operation);
    if (typeof o?.idempotencyKey !== 'string' || o.idempotencyKey === '') {
      throw new LabError('missing_idempotency_key', system, operation, 'every mutating call needs a non-empty idempotencyKey', false, 400);
    }
    if (o.lookupOnly) return this.lookup(system, operation, o);
    const disturbance = await this.enter(system, operation, o.signal);
    const { value } = await this.ledger.run(system, operation, o.idempotencyKey, async () => apply());
    if (disturbance.failAfter) throw disturbance.failAfter;
    return value;
  }

  /**
   * Answers a lookup by key: the recorded result, or a 404 when no call with
   * the key applied.
   * @remarks Neither counted nor disturbed by faults: it reads the ledger, and
   * a fault meant for the operation must not hide what the operation did.
   */
  private async lookup<T>(system: SystemName, operation: string, o: CallOptions): Promise<T> {
    o.signal?.throwIfAborted();
    const recorded = await this.ledger.recorded(system, operation, o.idempotencyKey);
    if (recorded) return recorded.value as T;
    throw new LabError(
      'unknown_idempotency_key',
      system,
      operation,
      `no ${operation} call with idempotency key "${o.idempotencyKey}" was applied`,
      false,
      404,
    );
  }

  /** Runs a read-only operation (no idempotency key). */
  async read<T>(system: SystemName, operation: string, signal: AbortSignal | undefined, apply: () => T | Promise<T>): Promise<T> {
    this.counter.record(system, operation);
    await this.ledger.ready(system, operation);
    const disturbance = await this.enter(system, operation, signal);
    const value = structuredClone(await apply());
    if (disturbance.failAfter) throw disturbance.failAfter;
    return value;
  }

  private async enter(system: SystemName, operation: string, signal: AbortSignal | undefined) {
    signal?.throwIfAborted();
    const disturbance = this.faults.take(system, operation);
    if (disturbance.latencyMs > 0) await sleep(disturbance.latencyMs, signal);
    if (disturbance.failBefore) throw disturbance.failBefore;
    return disturbance;
  }
}

/** Waits `ms`; rejects with the signal's reason as soon as it aborts, as `fetch` does. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
