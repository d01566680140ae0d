import type { AnyStateMachine } from 'xstate';
import type { z } from 'zod';
import type { RegisterOptions } from '../runtime/index.ts';
import { sagaStepView } from '../sagas/index.ts';
import { BillingRunInputSchema, billingRunMachine } from './billing-run.machine.ts';
import { ServiceActivationInputSchema, serviceActivationMachine } from './service-activation.machine.ts';
import { ServiceSuspensionInputSchema, serviceSuspensionMachine } from './service-suspension.machine.ts';
import { SignUpInputSchema, signUpMachine } from './sign-up.machine.ts';
import { SubscriberDeprovisioningInputSchema, subscriberDeprovisioningMachine } from './subscriber-deprovisioning.machine.ts';
import { SubscriberProvisioningInputSchema, subscriberProvisioningMachine } from './subscriber-provisioning.machine.ts';
import { TenantProvisioningInputSchema, tenantProvisioningMachine } from './tenant-provisioning.machine.ts';

/**
 * The machines layer: pure statecharts, the saga builder and the bundled
 * workflows our users come from.
 */

/** A bundled workflow: the machine, the version to register it as, and the schema its input must pass. */
export interface BundledMachine {
  readonly machine: AnyStateMachine;
  readonly version: string;
  readonly inputSchema: z.ZodType;
  /** What `runtime.register(machine, options)` takes: version, description, input schema, saga step view. */
  readonly options: RegisterOptions;
}

const bundled = (machine: AnyStateMachine, inputSchema: z.ZodType, correlation?: RegisterOptions['correlation']): BundledMachine => ({
  machine,
  version: '1',
  inputSchema,
  options: { version: '1', description: machine.config.description, inputSchema, stepView: sagaStepView, correlation },
});

/**
 * Every bundled workflow, ready for `runtime.register(machine, options)`.
 *
 * @remarks Step implementations come from `createBundledSteps(clients)` in
 * `actors/`; their names match the actor names used here. Validate start
 * input is checked by the runtime against `inputSchema` at start.
 */
export const bundledMachines: readonly BundledMachine[] = [
  // Found by the subscriber's username (POST /v1/correlate): an operator's event, a device's webhook.
  bundled(subscriberProvisioningMachine, SubscriberProvisioningInputSchema, { username: 'input.subscriber.username' }),
  bundled(subscriberDeprovisioningMachine, SubscriberDeprovisioningInputSchema),
  bundled(serviceActivationMachine, ServiceActivationInputSchema),
  bundled(serviceSuspensionMachine, ServiceSuspensionInputSchema),
  bundled(tenantProvisioningMachine, TenantProvisioningInputSchema),
  bundled(billingRunMachine, BillingRunInputSchema),
  // Found by the address being verified: the mail provider's webhook delivers email.verified. Lower-cased, as the
  // machine's own sameEmail guard compares it.
  bundled(signUpMachine, SignUpInputSchema, { email: (ctx: { input: { email: string } }) => ctx.input.email.toLowerCase() }),
];

export {
  BillingRunInputSchema,
  billingRunMachine,
  ServiceActivationInputSchema,
  serviceActivationMachine,
  ServiceSuspensionInputSchema,
  serviceSuspensionMachine,
  SignUpInputSchema,
  signUpMachine,
  SubscriberDeprovisioningInputSchema,
  subscriberDeprovisioningMachine,
  SubscriberProvisioningInputSchema,
  subscriberProvisioningMachine,
  TenantProvisioningInputSchema,
  tenantProvisioningMachine,
};
export type { BillingRunContext, BillingRunInput, BillingRunOutput } from './billing-run.machine.ts';
export type { ServiceActivationInput, ServiceActivationResults } from './service-activation.machine.ts';
export type { ServiceSuspensionInput, ServiceSuspensionResults } from './service-suspension.machine.ts';
export type { SignUpContext, SignUpEvent, SignUpInput, SignUpResult, WelcomeStatus } from './sign-up.machine.ts';
export type { SubscriberDeprovisioningInput, SubscriberDeprovisioningResults } from './subscriber-deprovisioning.machine.ts';
export type {
  SubscriberProvisioningInput,
  SubscriberProvisioningOutput,
  SubscriberProvisioningResults,
} from './subscriber-provisioning.machine.ts';
export type { TenantProvisioningInput, TenantProvisioningOutput, TenantProvisioningResults } from './tenant-provisioning.machine.ts';

export * from '../sagas/index.ts';
export { step, stepPolicyOf, type StepLogic, type StepPolicy } from '../runtime/step.ts';
