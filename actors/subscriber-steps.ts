import type { Clients } from './clients/index.ts';
import { callOptions, defineStep, undo } from './step-helpers.ts';
import type { StepImplementation } from '../runtime/step-types.ts';

/**
 * Steps of subscriber provisioning across the operator's systems (CRM,
 * RADIUS, IPAM, optical network, CPE management, billing), each with its undo.
 */

export interface CreateCustomerInput {
  name: string;
  email: string;
  tenantId?: string;
}
export interface CustomerRef {
  customerId: string;
}
export interface CreateSubscriberInput {
  customerId: string;
  username: string;
  plan: string;
}
export interface SubscriberRef {
  subscriberId: string;
  username: string;
}
export interface CreateRadiusAccountInput {
  username: string;
  password: string;
  framedIp?: string;
  rateLimit?: string;
}
export interface RadiusRef {
  username: string;
}
export interface AllocateIpInput {
  prefixId: number;
  description: string;
}
export interface IpAllocation {
  addressId: number;
  address: string;
}
export interface ActivateOnuInput {
  serialNumber: string;
  oltPort: string;
  subscriberId: string;
}
export interface OnuRef {
  onuId: string;
}
export type CpeParameter = [string, string | number | boolean, string?];
export interface ConfigureCpeInput {
  deviceId: string;
  parameterValues: CpeParameter[];
}
export interface CpeTask {
  deviceId: string;
  taskId: string;
}
export interface CreateBillingServiceInput {
  customerId: string;
  subscriberId: string;
  plan: string;
}
export interface ServiceRef {
  serviceId: string;
}

/** What an undo step reports: which record it removed and whether it was already gone. */
export interface UndoResult {
  id: string | number;
  alreadyGone: boolean;
}

/**
 * Creates the provisioning steps, named as the machines reference them.
 *
 * @remarks Every output is plain JSON holding the ids the step created, which
 * the saga keeps as compensation data. Undo steps treat "not found" as done.
 *
 * @example
 * ```ts
 * const steps = createSubscriberSteps(clients);
 * await steps.createCustomer.run({ name: 'Ada', email: 'ada@example.net' }, ctx);
 * ```
 */
export function createSubscriberSteps(clients: Clients) {
  const { customers, radius, ipam, onu, cpe, billing } = clients;
  return {
    createCustomer: defineStep<CreateCustomerInput, CustomerRef>(async (input, ctx) => {
      const customer = await customers.createCustomer(input, callOptions(ctx));
      return { customerId: customer.id };
    }),
    deleteCustomer: defineStep<CustomerRef, UndoResult>(async ({ customerId }, ctx) => ({
      id: customerId,
      ...(await undo(() => customers.deleteCustomer(customerId, callOptions(ctx)))),
    })),

    createSubscriber: defineStep<CreateSubscriberInput, SubscriberRef>(async (input, ctx) => {
      const subscriber = await customers.createSubscriber(input, callOptions(ctx));
      return { subscriberId: subscriber.id, username: subscriber.username };
    }),
    deleteSubscriber: defineStep<{ subscriberId: string }, UndoResult>(async ({ subscriberId }, ctx) => ({
      id: subscriberId,
      ...(await undo(() => customers.deleteSubscriber(subscriberId, callOptions(ctx)))),
    })),

    createRadiusAccount: defineStep<CreateRadiusAccountInput, RadiusRef>(async (input, ctx) => {
      const account = await radius.createAccount(input, callOptions(ctx));
      return { username: account.username };
    }),
    deleteRadiusAccount: defineStep<RadiusRef, UndoResult>(async ({ username }, ctx) => ({
      id: username,
      ...(await undo(() => radius.deleteAccount(username, callOptions(ctx)))),
    })),

    allocateIpAddress: defineStep<AllocateIpInput, IpAllocation>(async (input, ctx) => {
      const allocated = await ipam.allocateAddress(input, callOptions(ctx));
      return { addressId: allocated.id, address: allocated.address };
    }),
    releaseIpAddress: defineStep<{ addressId: number }, UndoResult>(async ({ addressId }, ctx) => ({
      id: addressId,
      ...(await undo(() => ipam.releaseAddress(addressId, callOptions(ctx)))),
    })),

    activateOnu: defineStep<ActivateOnuInput, OnuRef>(async (input, ctx) => {
      const activated = await onu.activate(input, callOptions(ctx));
      return { onuId: activated.onuId };
    }),
    deactivateOnu: defineStep<OnuRef, UndoResult>(async ({ onuId }, ctx) => ({
      id: onuId,
      ...(await undo(() => onu.deactivate(onuId, callOptions(ctx)))),
    })),

    configureCpe: defineStep<ConfigureCpeInput, CpeTask>(async (input, ctx) => {
      const task = await cpe.configure(input, callOptions(ctx));
      return { deviceId: input.deviceId, taskId: task.taskId };
    }),
    // A factory reset is itself idempotent: repeating it leaves the same device state.
    resetCpe: defineStep<{ deviceId: string }, CpeTask>(async ({ deviceId }, ctx) => {
      const task = await cpe.reset(deviceId, callOptions(ctx));
      return { deviceId, taskId: task.taskId };
    }),

    createBillingService: defineStep<CreateBillingServiceInput, ServiceRef>(async (input, ctx) => {
      const service = await billing.addService(input, callOptions(ctx));
      return { serviceId: service.serviceId };
    }),
    removeBillingService: defineStep<ServiceRef, UndoResult>(async ({ serviceId }, ctx) => ({
      id: serviceId,
      ...(await undo(() => billing.removeService(serviceId, callOptions(ctx)))),
    })),
  } satisfies Record<string, StepImplementation>;
}

/** The names of the provisioning steps. */
export type SubscriberStepName = keyof ReturnType<typeof createSubscriberSteps>;
