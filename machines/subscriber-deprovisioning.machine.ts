import { z } from 'zod';
import type { OnuRef } from '../actors/subscriber-steps.ts';
import type { PurgeSubscriberResult, RadiusStatusResult, ServiceStatusResult, SubscriberStatusResult } from '../actors/service-steps.ts';
import { defineSaga } from '../sagas/saga.ts';
import { suspendBillingStep, suspendRadiusStep, suspendSubscriberStep } from './suspension-steps.ts';

/** Input of `subscriber-deprovisioning`: the ids provisioning returned. */
export const SubscriberDeprovisioningInputSchema = z.object({
  subscriberId: z.string().min(1),
  username: z.string().min(1),
  serviceId: z.string().min(1),
  /** The IPAM address to release; absent for a static IP. */
  addressId: z.number().int().positive().optional(),
  /** The ONU to deactivate, with what it takes to re-activate it on rollback. */
  onu: z.object({ onuId: z.string().min(1), serialNumber: z.string().min(1), oltPort: z.string().min(1) }).optional(),
  cpeDeviceId: z.string().min(1).optional(),
});

export type SubscriberDeprovisioningInput = z.infer<typeof SubscriberDeprovisioningInputSchema>;

/** Step results of `subscriber-deprovisioning`, by step name. */
export interface SubscriberDeprovisioningResults {
  subscriber: SubscriberStatusResult;
  radiusAccount: RadiusStatusResult;
  billingService: ServiceStatusResult;
  onu?: OnuRef;
  purge: PurgeSubscriberResult;
}

/**
 * Removes a subscriber: first every reversible step (suspend in CRM, RADIUS
 * and billing, deactivate the ONU), then one irreversible purge.
 *
 * @remarks 5 steps; invoke ids `subscriber`, `radiusAccount`,
 * `billingService`, `onu`, `purge`, and `compensate.<step>`. Ordering the
 * reversible steps first is what makes a failure reverse cleanly: a failure
 * up to the ONU re-activates the subscriber. The purge is the point of no
 * return (the saga's pivot): it runs last with a long retry policy, each of
 * its calls is repeat-safe, so a retry resumes it. Once it starts a cancel is
 * refused, and if it still fails after its retries the instance waits (tag
 * `failed`) for `operator.retry`, which resumes the purge, rather than undoing
 * the reversible steps around half-deleted records.
 */
export const subscriberDeprovisioningMachine = defineSaga<SubscriberDeprovisioningInput, SubscriberDeprovisioningResults>({
  id: 'subscriber-deprovisioning',
  description: 'Suspend everywhere, deactivate the ONU, then purge the subscriber',
  steps: [
    suspendSubscriberStep('Suspend the subscriber record'),
    suspendRadiusStep(),
    suspendBillingStep(),
    {
      name: 'onu',
      description: 'Deactivate the ONU (skipped without one)',
      action: 'deactivateOnu',
      compensation: 'activateOnu',
      skip: ({ input }) => input.onu === undefined,
      policy: { maxAttempts: 5, timeoutMs: 60_000 },
      compensationPolicy: { maxAttempts: 5, timeoutMs: 60_000 },
      input: ({ input }) => ({ onuId: input.onu!.onuId }),
      compensationInput: ({ input }) => ({
        serialNumber: input.onu!.serialNumber,
        oltPort: input.onu!.oltPort,
        subscriberId: input.subscriberId,
      }),
    },
    {
      name: 'purge',
      description: 'Remove the billing service, RADIUS account, IP address, CPE configuration and subscriber',
      action: 'purgeSubscriber',
      // Point of no return: never compensated, never cancelled; a failure waits for operator.retry (it resumes).
      pivot: true,
      policy: { maxAttempts: 10, maxDelayMs: 300_000 },
      input: ({ input }) => ({
        subscriberId: input.subscriberId,
        username: input.username,
        serviceId: input.serviceId,
        ...(input.addressId !== undefined && { addressId: input.addressId }),
        ...(input.cpeDeviceId !== undefined && { cpeDeviceId: input.cpeDeviceId }),
      }),
    },
  ],
});
