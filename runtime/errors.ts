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
  | 'event_not_allowed'
  | 'step_not_registered'
  | 'concurrency_exhausted'
  | 'runtime_closed'
  | 'timeout'
  | 'unsupported_machine'
  | 'unserializable_value'
  | 'transition_failed'
  | 'definition_invalid'
  | 'definition_conflict';

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
    return new RuntimeError('machine_not_found', `No machine "${ref}" is registered; register it with runtime.register(machine, { version }).`, { machine: ref });
  }
  static instanceNotFound(id: string): RuntimeError {
    return new RuntimeError('instance_not_found', `Instance "${id}" does not exist (or belongs to another tenant).`, { instanceId: id });
  }
  static notActive(id: string, status: string): RuntimeError {
    return new RuntimeError('instance_not_active', `Instance "${id}" is ${status} and accepts no more events.`, { instanceId: id, status });
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
      `Instance "${instanceId}" cannot be restored with machine ${machine}: state "${missingState}" does not exist in it. Keep that version registered or register a snapshot migration.`,
      { instanceId, machine, missingState },
    );
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
