import type { Clients } from './clients/index.ts';
import { createBillingSteps } from './billing-steps.ts';
import { createServiceSteps } from './service-steps.ts';
import { createSignupSteps } from './signup-steps.ts';
import { DuplicateStepNameError } from './errors.ts';
import type { StepImplementation } from '../runtime/step-types.ts';
import { createSubscriberSteps } from './subscriber-steps.ts';
import { createTenantSteps } from './tenant-steps.ts';

/**
 * The actors layer: effectful step implementations, one family per file.
 */

/**
 * All bundled step implementations, keyed by the actor names the bundled
 * machines use in `setup({ actors })`.
 *
 * @remarks Registering them under these names is what binds a machine's
 * `xstate.spawnChild` (`src`) to the code that runs.
 *
 * @example
 * ```ts
 * const steps = createBundledSteps(clients);
 * await steps.createCustomer.run({ name: 'Ada', email: 'ada@example.net' }, ctx);
 * ```
 */
export function createBundledSteps(clients: Clients): Record<string, StepImplementation> {
  const families = [
    createSubscriberSteps(clients),
    createServiceSteps(clients),
    createTenantSteps(clients),
    createBillingSteps(clients),
    createSignupSteps(clients),
  ];
  const merged: Record<string, StepImplementation> = {};
  for (const family of families) {
    for (const [name, impl] of Object.entries(family)) {
      if (Object.hasOwn(merged, name)) throw new DuplicateStepNameError(name);
      merged[name] = impl as StepImplementation;
    }
  }
  return merged;
}

export { createBillingSteps, createServiceSteps, createSignupSteps, createSubscriberSteps, createTenantSteps };
export { callOptions, defineStep, isNotFound, undo } from './step-helpers.ts';
export { DuplicateStepNameError, type ActorsErrorCode } from './errors.ts';
export type * from './billing-steps.ts';
export type * from './service-steps.ts';
export type * from './signup-steps.ts';
export type * from './subscriber-steps.ts';
export type * from './tenant-steps.ts';
export type { StepContext, StepFn, StepImplementation, StepRegistry, StepPolicy } from '../runtime/step-types.ts';
export type { Clients } from './clients/index.ts';
