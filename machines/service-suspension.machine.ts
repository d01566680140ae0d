import { z } from 'zod';
import type { MessageRef, RadiusStatusResult, ServiceStatusResult, SubscriberStatusResult } from '../actors/service-steps.ts';
import { defineSaga } from '../sagas/saga.ts';
import { suspendBillingStep, suspendRadiusStep, suspendSubscriberStep } from './suspension-steps.ts';

const DEFAULT_REASON = 'unpaid invoices';

/** Input of `service-suspension` (parsing applies the default reason; the machine applies it too). */
export const ServiceSuspensionInputSchema = z.object({
  subscriberId: z.string().min(1),
  username: z.string().min(1),
  serviceId: z.string().min(1),
  reason: z.string().min(1).default(DEFAULT_REASON),
  /** Where to send the suspension notice; without it no notice is sent. */
  notifyEmail: z.email().optional(),
});

export type ServiceSuspensionInput = z.input<typeof ServiceSuspensionInputSchema>;

/** Step results of `service-suspension`, by step name. */
export interface ServiceSuspensionResults {
  radiusAccount: RadiusStatusResult;
  billingService: ServiceStatusResult;
  subscriber: SubscriberStatusResult;
  notice?: MessageRef;
}

/**
 * Suspends a subscriber's service: RADIUS access first, then billing, then
 * the CRM status, then a notice.
 *
 * @remarks 4 steps; invoke ids `radiusAccount`, `billingService`,
 * `subscriber`, `notice`, and `compensate.<step>`. The mirror image of
 * `service-activation`: access is cut before billing stops, so a rollback
 * never leaves service running unbilled.
 */
export const serviceSuspensionMachine = defineSaga<ServiceSuspensionInput, ServiceSuspensionResults>({
  id: 'service-suspension',
  description: 'Suspend a subscriber service in RADIUS, billing and CRM',
  steps: [
    suspendRadiusStep(),
    suspendBillingStep(),
    suspendSubscriberStep(),
    {
      name: 'notice',
      description: 'Tell the customer why (skipped without an address)',
      action: 'sendServiceNotice',
      skip: ({ input }) => input.notifyEmail === undefined,
      input: ({ input }) => ({
        to: input.notifyEmail!,
        template: 'service-suspended',
        data: { username: input.username, reason: input.reason ?? DEFAULT_REASON },
      }),
    },
  ],
});
