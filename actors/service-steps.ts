import type { Clients } from './clients/index.ts';
import { callOptions, defineStep, undo } from './step-helpers.ts';
import type { StepImplementation } from '../runtime/step-types.ts';

/**
 * Steps of a subscriber's service lifecycle after provisioning: suspend and
 * resume in each system, the final purge of deprovisioning, customer notices.
 * Each suspend step is the undo of its resume step and the other way round.
 */

export interface SubscriberStatusResult {
  subscriberId: string;
  status: 'active' | 'suspended';
}
export interface RadiusStatusResult {
  username: string;
  suspended: boolean;
}
export interface ServiceStatusResult {
  serviceId: string;
  status: 'active' | 'suspended';
}

export interface PurgeSubscriberInput {
  subscriberId: string;
  username: string;
  serviceId: string;
  addressId?: number;
  cpeDeviceId?: string;
}
/** Which records the purge removed and which it found already gone. */
export interface PurgeSubscriberResult {
  removed: string[];
  alreadyGone: string[];
}

export interface ServiceNoticeInput {
  to: string;
  template: string;
  data?: Record<string, unknown>;
}
export interface MessageRef {
  messageId: string;
}

/**
 * Creates the service lifecycle steps, named as the machines reference them.
 *
 * @remarks Status changes are naturally repeatable (setting a status twice
 * leaves the same state), so their undo is the opposite status change.
 *
 * @example
 * ```ts
 * await createServiceSteps(clients).suspendRadiusAccount.run({ username: 'ada' }, ctx);
 * ```
 */
export function createServiceSteps(clients: Clients) {
  const { customers, radius, billing, ipam, cpe, messaging } = clients;
  const subscriberStatus = (status: 'active' | 'suspended') =>
    defineStep<{ subscriberId: string }, SubscriberStatusResult>(async ({ subscriberId }, ctx) => {
      await customers.setSubscriberStatus(subscriberId, status, callOptions(ctx));
      return { subscriberId, status };
    });
  const radiusSuspended = (suspended: boolean) =>
    defineStep<{ username: string }, RadiusStatusResult>(async ({ username }, ctx) => {
      await radius.setSuspended(username, suspended, callOptions(ctx));
      return { username, suspended };
    });
  const serviceStatus = (status: 'active' | 'suspended') =>
    defineStep<{ serviceId: string }, ServiceStatusResult>(async ({ serviceId }, ctx) => {
      await billing.setServiceStatus(serviceId, status, callOptions(ctx));
      return { serviceId, status };
    });

  return {
    suspendSubscriber: subscriberStatus('suspended'),
    activateSubscriber: subscriberStatus('active'),
    suspendRadiusAccount: radiusSuspended(true),
    resumeRadiusAccount: radiusSuspended(false),
    suspendBillingService: serviceStatus('suspended'),
    resumeBillingService: serviceStatus('active'),

    // The point of no return of deprovisioning, so it is one step that runs
    // last: every call has its own derived key and treats "already gone" as
    // done, so a retry resumes where the previous attempt stopped.
    purgeSubscriber: defineStep<PurgeSubscriberInput, PurgeSubscriberResult>(
      async (input, ctx) => {
        const result: PurgeSubscriberResult = { removed: [], alreadyGone: [] };
        const remove = async (what: string, call: () => Promise<unknown>) => {
          const { alreadyGone } = await undo(call);
          (alreadyGone ? result.alreadyGone : result.removed).push(what);
        };
        await remove('billingService', () => billing.removeService(input.serviceId, callOptions(ctx, 'billing')));
        await remove('radiusAccount', () => radius.deleteAccount(input.username, callOptions(ctx, 'radius')));
        if (input.addressId !== undefined) {
          await remove('ipAddress', () => ipam.releaseAddress(input.addressId!, callOptions(ctx, 'ipam')));
        }
        if (input.cpeDeviceId !== undefined) {
          await remove('cpeConfiguration', () => cpe.reset(input.cpeDeviceId!, callOptions(ctx, 'cpe')));
        }
        await remove('subscriber', () => customers.deleteSubscriber(input.subscriberId, callOptions(ctx, 'subscriber')));
        return result;
      },
      { policy: { maxAttempts: 10, maxDelayMs: 300_000 } },
    ),

    sendServiceNotice: defineStep<ServiceNoticeInput, MessageRef>(async (input, ctx) => {
      const sent = await messaging.sendEmail(input, callOptions(ctx));
      return { messageId: sent.messageId };
    }),
  } satisfies Record<string, StepImplementation>;
}

/** The names of the service lifecycle steps. */
export type ServiceStepName = keyof ReturnType<typeof createServiceSteps>;
