/**
 * Errors raised while *defining* machines (at import time, never while a
 * machine runs: inside a machine a failure is an event).
 */

/** Stable codes of machine definition errors. */
export type MachineDefinitionErrorCode =
  | 'saga_without_steps'
  | 'invalid_step_name'
  | 'duplicate_step_name'
  | 'invalid_actor_name'
  | 'invalid_pivot'
  | 'conflicting_step_policy';

/** A machine definition that cannot be built; the message names the offending ids and the fix. */
export class MachineDefinitionError extends Error {
  override readonly name = 'MachineDefinitionError';

  constructor(
    readonly code: MachineDefinitionErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  static noSteps(machineId: string): MachineDefinitionError {
    return new MachineDefinitionError('saga_without_steps', `Saga "${machineId}" has no steps; give it at least one.`);
  }

  static invalidStepName(machineId: string, name: string): MachineDefinitionError {
    return new MachineDefinitionError(
      'invalid_step_name',
      `Saga "${machineId}": step name "${name}" must be camelCase letters and digits (it becomes a persisted state name and invoke id).`,
    );
  }

  static duplicateStepName(machineId: string, name: string): MachineDefinitionError {
    return new MachineDefinitionError(
      'duplicate_step_name',
      `Saga "${machineId}": step name "${name}" is used twice; step names must be unique.`,
    );
  }

  static invalidActorName(machineId: string, actor: string): MachineDefinitionError {
    return new MachineDefinitionError(
      'invalid_actor_name',
      `Saga "${machineId}": actor name "${actor}" must be an identifier (letters, digits, "_"); it names a registered step implementation.`,
    );
  }

  static conflictingPolicy(machineId: string, actor: string): MachineDefinitionError {
    return new MachineDefinitionError(
      'conflicting_step_policy',
      `Saga "${machineId}": actor "${actor}" is used with two different policies; give it one policy or use two actor names.`,
    );
  }
}
