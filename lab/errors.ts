import { ExternalSystemError } from '../actors/clients/index.ts';
import type { SystemName } from './operations.ts';

/** Stable codes of the errors the lab raises; the HTTP service sends them as `code`. */
export type LabErrorCode =
  | 'not_found'
  | 'conflict'
  | 'invalid_request'
  | 'prefix_exhausted'
  | 'injected_fault'
  | 'missing_idempotency_key'
  | 'unknown_idempotency_key'
  | 'upstream_error'
  | 'internal_error';

/**
 * Error raised by a lab system: an {@link ExternalSystemError} with a `code`.
 *
 * @remarks Step actors only look at `retryable` (and `instanceof
 * ExternalSystemError`); tests and the HTTP service also use `code` and
 * `status`. Business failures are never retryable; injected faults are
 * retryable unless the fault says otherwise.
 */
export class LabError extends ExternalSystemError {
  constructor(
    readonly code: LabErrorCode,
    system: string,
    operation: string,
    /** The message without the `system.operation:` prefix, as sent over HTTP. */
    readonly detail: string,
    retryable: boolean,
    status?: number,
    options?: { cause?: unknown },
  ) {
    super(system, operation, detail, retryable, status);
    if (options?.cause !== undefined) this.cause = options.cause;
  }

  /** A record the call refers to does not exist (HTTP 404). */
  static notFound(system: SystemName, operation: string, kind: string, id: string | number): LabError {
    return new LabError('not_found', system, operation, `${kind} ${id} does not exist; create it first or check the id`, false, 404);
  }

  /** The call contradicts a record that exists (HTTP 409). */
  static conflict(system: SystemName, operation: string, message: string): LabError {
    return new LabError('conflict', system, operation, message, false, 409);
  }

  /** The request is malformed (HTTP 400); `lab` for a malformed control request. */
  static invalid(system: SystemName | 'lab', operation: string, message: string): LabError {
    return new LabError('invalid_request', system, operation, message, false, 400);
  }

  /** An IPAM prefix has no free address left (HTTP 409, as NetBox answers). */
  static prefixExhausted(prefixId: number, prefix: string): LabError {
    return new LabError(
      'prefix_exhausted',
      'ipam',
      'allocateAddress',
      `prefix ${prefixId} (${prefix}) has no available IP address; release addresses or add a prefix`,
      false,
      409,
    );
  }
}

/** Strips the `system.operation: ` prefix {@link ExternalSystemError} puts before its message. */
export function errorDetail(error: ExternalSystemError): string {
  if (error instanceof LabError) return error.detail;
  const prefix = `${error.system}.${error.operation}: `;
  return error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
}
