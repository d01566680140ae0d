import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { RuntimeErrorCode } from '../runtime/index.ts';

/** Stable codes of the errors the HTTP layer itself raises (besides the runtime's). */
export type ApiErrorCode =
  | 'unauthorized'
  | 'forbidden'
  | 'route_not_found'
  | 'validation_failed'
  | 'malformed_json'
  | 'unsupported_media_type'
  | 'payload_too_large'
  | 'input_invalid'
  | 'event_not_accepted'
  | 'idempotency_conflict'
  | 'unsupported_format'
  | 'database_unavailable'
  | 'method_not_allowed'
  | 'headers_too_large'
  | 'malformed_request'
  | 'request_timeout'
  | 'verification_unavailable'
  | 'webhook_source_not_found'
  | 'webhook_signature_invalid'
  | 'webhook_replayed'
  | 'webhook_mapping_failed'
  | 'internal_error';

/**
 * An error with an HTTP status, thrown by routes and middleware and turned
 * into `{ error: { code, message, requestId, details? } }` by the one error
 * handler (`middleware/errors.ts`).
 */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: ApiErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  static unauthorized(message = 'A valid credential is required: send "Authorization: Bearer <API key or JWT>".'): ApiError {
    return new ApiError(401, 'unauthorized', message);
  }
  static forbidden(role: string, roles: readonly string[]): ApiError {
    return new ApiError(403, 'forbidden', `This operation needs the "${role}" role (the credential has: ${roles.join(', ') || 'none'}).`, {
      requiredRole: role,
    });
  }
  static validation(where: string, issues: { path: string; message: string }[]): ApiError {
    const first = issues[0];
    const what = first ? `${first.path ? ` (${first.path})` : ''}: ${first.message}` : '';
    return new ApiError(400, 'validation_failed', `Invalid ${where}${what}.`, { target: where, issues });
  }
  static payloadTooLarge(limit: number): ApiError {
    return new ApiError(413, 'payload_too_large', `The request body exceeds the limit of ${limit} bytes.`, { limitBytes: limit });
  }
  static unsupportedFormat(format: string, supported: readonly string[]): ApiError {
    const message = `Unknown format "${format}"; use one of: ${supported.join(', ')}.`;
    return new ApiError(400, 'unsupported_format', message, { format, supported: [...supported] });
  }
}

/** HTTP status of each runtime error code. */
export const RUNTIME_STATUS: Record<RuntimeErrorCode, ContentfulStatusCode> = {
  invalid_argument: 400,
  machine_not_found: 404,
  machine_version_not_found: 404,
  instance_not_found: 404,
  instance_exists: 409,
  idempotency_conflict: 422,
  incompatible_snapshot: 409,
  instance_not_active: 409,
  invalid_seq: 400,
  // The registered machine no longer decides as the instance's history records: forking would invent a state.
  fork_replay_mismatch: 409,
  bulk_job_not_found: 404,
  bulk_unavailable: 503,
  instance_paused: 409,
  event_not_allowed: 403,
  // The instance kept changing under the request: the client may retry at once.
  concurrency_exhausted: 409,
  runtime_closed: 503,
  timeout: 504,
  // Only ever a step's error (delivered to the chart), never thrown to a caller; mapped for completeness.
  step_interrupted: 500,
  // A workflow definition sent to POST /v1/machines: every problem is in details.issues.
  definition_invalid: 422,
  definition_conflict: 409,
  // Human tasks: unknown (or another tenant's), no longer open, claimed by someone else, not the caller's, an answer failing its form.
  task_not_found: 404,
  task_closed: 409,
  task_claimed: 409,
  task_not_allowed: 403,
  answer_invalid: 422,
  // A machine declaring a malformed meta.task: a fault of the server's configuration.
  invalid_task: 500,
  // Configuration faults of the server, not of the request.
  machine_already_registered: 500,
  step_not_registered: 500,
  unsupported_machine: 500,
  // Raised inside a transition; the instance records it (status `error`), a request sees it only if it carried the value.
  unserializable_value: 422,
  transition_failed: 422,
  // The start input fails the schema the machine was registered with: details.issues lists each problem.
  input_invalid: 422,
  // Recorded on an instance that scheduled a too short delay or committed too many transitions too fast.
  delay_too_short: 422,
  transition_rate_exceeded: 429,
  // Migrations: the instance is on that version already (409), or the target version cannot hold it (422, nothing changed).
  migration_same_version: 409,
  migration_state_missing: 422,
  migration_context_invalid: 422,
  migration_unresolvable: 422,
  migration_failed: 422,
  // Outbox delivery: a server without an outbox store, an unknown (or another tenant's) subscription or delivery,
  // a redelivery of a delivery still pending or cancelled.
  outbox_unavailable: 501,
  subscription_not_found: 404,
  delivery_not_found: 404,
  delivery_not_ended: 409,
  // Correlation by business key: a value a transition could not index ends that instance in error (recorded, like
  // unserializable_value); no active instance waits on the key; several do and the request did not ask for all.
  invalid_correlation_value: 422,
  correlation_not_found: 404,
  correlation_ambiguous: 409,
  // Schedules: an expression or time zone that cannot be read, an unknown or taken id, a trigger skipped by the overlap policy.
  cron_invalid: 400,
  timezone_invalid: 400,
  schedule_not_found: 404,
  schedule_exists: 409,
  schedule_overlap: 409,
  // The store behind the runtime lacks the capability (schedules, retention).
  not_supported: 501,
};
