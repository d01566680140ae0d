import { z } from 'zod';
import type { MessageRef, RadiusStatusResult, ServiceStatusResult, SubscriberStatusResult } from '../actors/service-steps.ts';
import { defineSaga } from '../sagas/saga.ts';

/** Input of `service-activation`: a provisioned (or suspended) subscriber's ids. */
export const ServiceActivationInputSchema = z.object({
  subscriberId: z.string().min(1),
  username: z.string().min(1),
  serviceId: z.string().min(1),
  /** Where to send the "service active" notice; without it no notice is sent. */
  notifyEmail: z.email().optional(),
});

export type ServiceActivationInput = z.infer<typeof ServiceActivationInputSchema>;

/** Step results of `service-activation`, by step name. */
export interface ServiceActivationResults {
  subscriber: SubscriberStatusResult;
  radiusAccount: RadiusStatusResult;
  billingService: ServiceStatusResult;
  notice?: MessageRef;
}

/**
 * Activates a subscriber's service: CRM status, RADIUS access, then billing,
 * then a notice to the customer.
 *
 * @remarks 4 steps; invoke ids `subscriber`, `radiusAccount`,
 * `billingService`, `notice`, and `compensate.<step>`. Billing starts only
 * after access works, so a rollback never leaves a customer billed without
 * service. The notice has no undo and comes last.
 */
export const serviceActivationMachine = defineSaga<ServiceActivationInput, ServiceActivationResults>({
  id: 'service-activation',
  description: 'Activate a subscriber service in CRM, RADIUS and billing',
  steps: [
    {
      name: 'subscriber',
      description: 'Mark the subscriber active',
      action: 'activateSubscriber',
      compensation: 'suspendSubscriber',
      input: ({ input }) => ({ subscriberId: input.subscriberId }),
      compensationInput: ({ result }) => ({ subscriberId: result.subscriberId }),
    },
    {
      name: 'radiusAccount',
      description: 'Allow authentication in RADIUS',
      action: 'resumeRadiusAccount',
      compensation: 'suspendRadiusAccount',
      input: ({ input }) => ({ username: input.username }),
      compensationInput: ({ result }) => ({ username: result.username }),
    },
    {
      name: 'billingService',
      description: 'Start billing the service',
      action: 'resumeBillingService',
      compensation: 'suspendBillingService',
      input: ({ input }) => ({ serviceId: input.serviceId }),
      compensationInput: ({ result }) => ({ serviceId: result.serviceId }),
    },
    {
      name: 'notice',
      description: 'Tell the customer (skipped without an address)',
      action: 'sendServiceNotice',
      skip: ({ input }) => input.notifyEmail === undefined,
      input: ({ input }) => ({ to: input.notifyEmail!, template: 'service-activated', data: { username: input.username } }),
    },
  ],
});
