/**
 * Errors of the actors layer. Step failures themselves are the clients'
 * `ExternalSystemError`s; these are wiring mistakes found at start-up.
 */

/** Stable codes of actors-layer errors. */
export type ActorsErrorCode = 'duplicate_step_name';

/** A step name defined by two step families; the bundle would be ambiguous. */
export class DuplicateStepNameError extends Error {
  override readonly name = 'DuplicateStepNameError';
  readonly code: ActorsErrorCode = 'duplicate_step_name';

  constructor(readonly stepName: string) {
    super(`Step "${stepName}" is defined by two step families; rename one (machines reference steps by this name).`);
  }
}
