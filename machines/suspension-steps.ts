import type { RadiusStatusResult, ServiceStatusResult, SubscriberStatusResult } from '../actors/service-steps.ts';
import type { SagaStepOf } from '../sagas/saga-types.ts';

/**
 * Saga steps that suspend a subscriber in one system each, undone by
 * resuming there. Shared by `service-suspension` and
 * `subscriber-deprovisioning`, whose first phase is a suspension.
 */

/** Reject authentication in RADIUS; undo: accept it again. */
export function suspendRadiusStep<I extends { username: string }, R extends { radiusAccount: RadiusStatusResult }>(): SagaStepOf<
  I,
  R,
  'radiusAccount'
> {
  return {
    name: 'radiusAccount',
    description: 'Reject authentication in RADIUS',
    action: 'suspendRadiusAccount',
    compensation: 'resumeRadiusAccount',
    input: ({ input }) => ({ username: input.username }),
    compensationInput: ({ result }) => ({ username: result.username }),
  };
}

/** Stop billing the service; undo: bill it again. */
export function suspendBillingStep<I extends { serviceId: string }, R extends { billingService: ServiceStatusResult }>(): SagaStepOf<
  I,
  R,
  'billingService'
> {
  return {
    name: 'billingService',
    description: 'Stop billing the service',
    action: 'suspendBillingService',
    compensation: 'resumeBillingService',
    input: ({ input }) => ({ serviceId: input.serviceId }),
    compensationInput: ({ result }) => ({ serviceId: result.serviceId }),
  };
}

/** Mark the subscriber suspended in the CRM; undo: active again. */
export function suspendSubscriberStep<I extends { subscriberId: string }, R extends { subscriber: SubscriberStatusResult }>(
  description = 'Mark the subscriber suspended',
): SagaStepOf<I, R, 'subscriber'> {
  return {
    name: 'subscriber',
    description,
    action: 'suspendSubscriber',
    compensation: 'activateSubscriber',
    input: ({ input }) => ({ subscriberId: input.subscriberId }),
    compensationInput: ({ result }) => ({ subscriberId: result.subscriberId }),
  };
}
