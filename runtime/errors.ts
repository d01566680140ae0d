/** Stable codes of every error the runtime raises; the API maps them to responses. */
export type RuntimeErrorCode =
  | 'invalid_argument'
  | 'machine_not_found'
  | 'machine_version_not_found'
  | 'machine_already_registered'
  | 'instance_not_found'
  | 'instance_exists'
  | 'idempotency_conflict'
  | 'incompatible_snapshot'
  | 'instance_not_active'
  | 'instance_paused'
  | 'event_not_allowed'
  | 'step_not_registered'
  | 'concurrency_exhausted'
  | 'runtime_closed'
  | 'timeout'
  | 'step_interrupted'
  | 'unsupported_machine'
  | 'unserializable_value'
  | 'transition_failed'
  | 'delay_too_short'
  | 'transition_rate_exceeded'
  | 'definition_invalid'
  | 'definition_conflict'
  | 'input_invalid'
  | 'task_not_found'
  | 'task_closed'
  | 'task_claimed'
  | 'task_not_allowed'
  | 'answer_invalid'
  | 'invalid_task'
  | 'invalid_seq'
  | 'fork_replay_mismatch'
  | 'migration_same_version'
  | 'migration_state_missing'
  | 'migration_context_invalid'
  | 'migration_unresolvable'
  | 'migration_failed'
  | 'outbox_unavailable'
  | 'subscription_not_found'
  | 'delivery_not_found'
  | 'delivery_not_ended'
  | 'invalid_correlation_value'
  | 'correlation_not_found'
  | 'correlation_ambiguous'
  | 'cron_invalid'
  | 'timezone_invalid'
  | 'schedule_not_found'
  | 'schedule_exists'
  | 'schedule_overlap'
  | 'not_supported'
  | 'bulk_job_not_found'
  | 'bulk_unavailable';

/**
 * Base of the runtime's errors: a stable `code`, a message naming the ids
 * involved and the fix, optional structured `details`.
 */
export class RuntimeError extends Error {
  override name = 'RuntimeError';
  constructor(
    readonly code: RuntimeErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  static invalidArgument(fn: string, problem: string, details?: Record<string, unknown>): RuntimeError {
    return new RuntimeError('invalid_argument', `${fn}: ${problem}`, details);
  }
  static machineNotFound(ref: string): RuntimeError {
    return new RuntimeError(
      'machine_not_found',
      `No machine "${ref}" is registered; register it with runtime.register(machine, { version }).`,
      { machine: ref },
    );
  }
  static instanceNotFound(id: string): RuntimeError {
    return new RuntimeError('instance_not_found', `Instance "${id}" does not exist (or belongs to another tenant).`, { instanceId: id });
  }
  static notActive(id: string, status: string): RuntimeError {
    return new RuntimeError('instance_not_active', `Instance "${id}" is ${status} and accepts no more events.`, { instanceId: id, status });
  }
  static paused(id: string): RuntimeError {
    return new RuntimeError(
      'instance_paused',
      `Instance "${id}" is paused and accepts no events until it is resumed (POST /v1/instances/${id}/resume).`,
      { instanceId: id },
    );
  }
  static closed(): RuntimeError {
    return new RuntimeError('runtime_closed', 'The runtime is stopping or stopped; no new work is accepted.');
  }
}

/**
 * A persisted snapshot that the registered machine version cannot represent.
 * @remarks Raised before anything is changed; register a migration for the
 * version pair or keep the old version registered.
 */
export class IncompatibleSnapshotError extends RuntimeError {
  override name = 'IncompatibleSnapshotError';
  constructor(
    readonly instanceId: string,
    readonly machine: string,
    readonly missingState: string,
  ) {
    super(
      'incompatible_snapshot',
      `Instance "${instanceId}" cannot be restored with machine ${machine}: state "${missingState}" does not exist in it. ` +
        'Keep that version registered or register a snapshot migration.',
      { instanceId, machine, missingState },
    );
  }
}

/** Why a migration was refused: each a stable code (see {@link MigrationRefusedError}). */
export type MigrationRefusal = Extract<RuntimeErrorCode, `migration_${string}`>;

/**
 * An instance the target version cannot hold: refused before anything is written (the instance, its snapshot,
 * version and effects stay as they were).
 */
export class MigrationRefusedError extends RuntimeError {
  override name = 'MigrationRefusedError';
  constructor(
    code: MigrationRefusal,
    readonly instanceId: string,
    readonly from: string,
    readonly to: string,
    problem: string,
    details: Record<string, unknown> = {},
  ) {
    super(code, `Instance "${instanceId}" cannot be migrated from ${from} to ${to}: ${problem}.`, {
      instanceId,
      from,
      to,
      ...details,
    });
  }
}

/** The caller's roles do not allow the event in the instance's current state. */
export class EventNotAllowedError extends RuntimeError {
  override name = 'EventNotAllowedError';
  constructor(instanceId: string, eventType: string, required: readonly string[]) {
    super('event_not_allowed', `Event "${eventType}" on instance "${instanceId}" needs one of the roles: ${required.join(', ')}.`, {
      instanceId,
      eventType,
      requiredRoles: [...required],
    });
  }
}

/**
 * A step attempt ran past its policy's `timeoutMs`: its signal is aborted with
 * this error and the attempt counts as failed (retried while attempts remain).
 */
export class StepTimeoutError extends RuntimeError {
  override name = 'StepTimeoutError';
  constructor(step: string, timeoutMs: number, attempt: number, instanceId: string) {
    super('timeout', `step ${step} timed out after ${timeoutMs} ms (attempt ${attempt})`, { step, timeoutMs, attempt, instanceId });
  }
}

/**
 * A step's last allowed call was cut short (the process stopped during it): it is not called again, as that
 * would exceed its `maxAttempts`, and its outcome is unknown (it may have applied).
 */
export class StepInterruptedError extends RuntimeError {
  override name = 'StepInterruptedError';
  constructor(step: string, attempts: number, instanceId: string) {
    super(
      'step_interrupted',
      `step ${step} was interrupted during its last allowed attempt (${attempts}); it may have applied and is not called again`,
      { step, attempts, instanceId },
    );
  }
}

/**
 * A machine invokes a step by a name nothing is registered under (or by
 * inline logic, which has no name to persist). Permanent: never retried.
 */
export class StepNotRegisteredError extends RuntimeError {
  override name = 'StepNotRegisteredError';

  /** The invoked step name has no implementation in this runtime. */
  static missing(step: string, instanceId: string): StepNotRegisteredError {
    return new StepNotRegisteredError(
      `no step implementation is registered under "${step}" (instance ${instanceId}); ` +
        `register it with runtime.registerSteps({ ${step}: ... })`,
      { step, instanceId },
    );
  }

  /** An invoke or spawn references inline actor logic, which cannot be persisted. */
  static unnamed(invokeId: string, instanceId: string): StepNotRegisteredError {
    return new StepNotRegisteredError(
      `Instance ${instanceId}: invoked/spawned actor "${invokeId}" must reference an actor registered by name in setup({ actors })`,
      { invokeId, instanceId },
    );
  }

  private constructor(message: string, details: Record<string, unknown>) {
    super('step_not_registered', message, details);
  }
}

/** A JSON form of an error for history and `xstate.error.actor` events. */
export function serializeError(e: unknown): { name: string; message: string; code?: string; details?: unknown } {
  if (e instanceof Error) {
    const details = (e as { details?: unknown }).details;
    // The runtime's own errors keep their stable code: it tells a runaway or a bad delay from a machine's failure.
    const code = e instanceof RuntimeError ? { code: e.code } : {};
    return { name: e.name, message: e.message, ...code, ...(details !== undefined ? { details } : {}) };
  }
  if (e && typeof e === 'object' && 'message' in e) {
    return { name: 'Error', message: String((e as { message: unknown }).message) };
  }
  return { name: 'Error', message: String(e) };
}
