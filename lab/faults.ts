import { LabError } from './errors.ts';
import { isOperationOf, isSystemName, type OperationName, type SystemName } from './operations.ts';

/**
 * How an injected fault disturbs a call.
 * - `fail`: the call fails before the system applies anything.
 * - `latency`: the call waits `latencyMs` first (an aborted signal ends the wait).
 * - `failAfterApply`: the system applies and records the change, then the
 *   caller gets an error, as when a response is lost on the way back.
 */
export type FaultMode = 'fail' | 'latency' | 'failAfterApply';

/** What to inject; `operation` omitted means every operation of the system. */
export interface FaultSpec<S extends SystemName = SystemName> {
  system: S;
  operation?: OperationName<S>;
  mode: FaultMode;
  /** Calls the fault affects; omitted means every call until cleared. */
  times?: number;
  /** Delay added by a `latency` fault. */
  latencyMs?: number;
  /** Whether the injected error is retryable (default true). */
  retryable?: boolean;
  /**
   * HTTP status the service answers with (default 503, or 422 when not retryable).
   * @remarks HTTP clients derive `retryable` from the status (5xx and 429), so keep the two consistent.
   */
  status?: number;
  message?: string;
}

/** An injected fault with its bookkeeping. */
export interface Fault extends FaultSpec {
  readonly id: string;
  /** Calls the fault has affected so far. */
  hits: number;
  /** Calls it will still affect; `null` when it never runs out. */
  remaining: number | null;
}

/** Filter for {@link FaultInjector.clear}; every given field must match. */
export interface FaultFilter {
  id?: string;
  system?: SystemName;
  operation?: string;
}

/** What the faults say about one call. */
export interface CallDisturbance {
  latencyMs: number;
  /** The error to throw before applying (`fail`) or after applying (`failAfterApply`). */
  failBefore?: LabError;
  failAfter?: LabError;
}

/**
 * Injects faults per system and operation.
 *
 * @example
 * ```ts
 * lab.faults.inject({ system: 'onu', operation: 'activate', mode: 'fail', times: 2 });
 * lab.faults.inject({ system: 'cpe', mode: 'latency', latencyMs: 500 });
 * lab.faults.clear({ system: 'onu' });
 * ```
 */
export class FaultInjector {
  private readonly faults: Fault[] = [];
  private sequence = 0;

  /** Adds a fault; throws a {@link LabError} (`invalid_request`) when the spec names nothing real. */
  inject<S extends SystemName>(spec: FaultSpec<S>): Fault {
    const fault: Fault = { ...validate(spec), id: `fault_${++this.sequence}`, hits: 0, remaining: spec.times ?? null };
    this.faults.push(fault);
    return { ...fault };
  }

  /** Every fault injected and not cleared, including spent ones (`remaining: 0`). */
  list(): Fault[] {
    return this.faults.map((f) => ({ ...f }));
  }

  /** Removes the faults matching the filter (all when omitted); returns how many. */
  clear(filter: FaultFilter = {}): number {
    let removed = 0;
    for (let i = this.faults.length - 1; i >= 0; i--) {
      const f = this.faults[i]!;
      const matches =
        (filter.id === undefined || f.id === filter.id) &&
        (filter.system === undefined || f.system === filter.system) &&
        (filter.operation === undefined || f.operation === filter.operation);
      if (matches) {
        this.faults.splice(i, 1);
        removed++;
      }
    }
    return removed;
  }

  /**
   * Consumes the faults that apply to one call.
   * @remarks Latency faults add up; of the failing faults, the first injected wins.
   */
  take(system: SystemName, operation: string): CallDisturbance {
    const disturbance: CallDisturbance = { latencyMs: 0 };
    for (const f of this.faults) {
      if (f.system !== system || (f.operation !== undefined && f.operation !== operation)) continue;
      if (f.remaining === 0) continue;
      if (f.mode !== 'latency' && (disturbance.failBefore || disturbance.failAfter)) continue;
      f.hits++;
      if (f.remaining !== null) f.remaining--;
      if (f.mode === 'latency') disturbance.latencyMs += f.latencyMs ?? 0;
      else if (f.mode === 'fail') disturbance.failBefore = injectedError(f, system, operation);
      else disturbance.failAfter = injectedError(f, system, operation);
    }
    return disturbance;
  }
}

function injectedError(f: Fault, system: SystemName, operation: string): LabError {
  const retryable = f.retryable ?? true;
  const what = f.mode === 'failAfterApply' ? 'the change was applied but the response was lost' : 'the system is unavailable';
  const message = f.message ?? `injected fault ${f.id}: ${what}`;
  return new LabError('injected_fault', system, operation, message, retryable, f.status ?? (retryable ? 503 : 422));
}

function validate<S extends SystemName>(spec: FaultSpec<S>): FaultSpec<S> {
  const bad = (message: string) => LabError.invalid('lab', 'injectFault', message);
  if (!isSystemName(spec.system)) throw bad(`unknown system "${String(spec.system)}"`);
  if (spec.operation !== undefined && !isOperationOf(spec.system, spec.operation)) {
    throw bad(`system ${spec.system} has no operation "${spec.operation}"`);
  }
  if (!['fail', 'latency', 'failAfterApply'].includes(spec.mode)) throw bad(`unknown fault mode "${String(spec.mode)}"`);
  if (spec.times !== undefined && !(Number.isInteger(spec.times) && spec.times > 0)) {
    throw bad('times must be a positive integer (omit it for a fault that never runs out)');
  }
  if (spec.mode === 'latency' && !(typeof spec.latencyMs === 'number' && spec.latencyMs >= 0)) {
    throw bad('a latency fault needs latencyMs >= 0');
  }
  if (spec.status !== undefined && !(Number.isInteger(spec.status) && spec.status >= 400 && spec.status <= 599)) {
    throw bad('status must be an HTTP error status (400-599)');
  }
  return { ...spec };
}
