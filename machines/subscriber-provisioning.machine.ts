import { z } from 'zod';
import type { CpeTask, CustomerRef, IpAllocation, OnuRef, RadiusRef, ServiceRef, SubscriberRef } from '../actors/subscriber-steps.ts';
import { defineSaga } from '../sagas/saga.ts';

const cpeParameter = z.tuple([z.string(), z.union([z.string(), z.number(), z.boolean()])], z.string());

/**
 * Input of `subscriber-provisioning`.
 *
 * @remarks The input is kept in the persisted context: the RADIUS password is
 * marked secret (`secrets`), so a store with field encryption keeps it only
 * as ciphertext.
 */
export const SubscriberProvisioningInputSchema = z
  .object({
    tenantId: z.string().min(1).optional(),
    /** Link an existing customer: the `customer` step is skipped (and never deleted on rollback). */
    customerId: z.string().min(1).optional(),
    customer: z.object({ name: z.string().min(1), email: z.email() }).optional(),
    subscriber: z.object({ username: z.string().min(1), plan: z.string().min(1) }),
    radius: z.object({ password: z.string().min(8), rateLimit: z.string().optional() }),
    /** A static address skips IP allocation. */
    staticIp: z.ipv4().optional(),
    ipPrefixId: z.number().int().positive().optional(),
    onu: z.object({ serialNumber: z.string().min(1), oltPort: z.string().min(1) }),
    /** Without a CPE the configuration step is skipped. */
    cpe: z.object({ deviceId: z.string().min(1), parameterValues: z.array(cpeParameter).optional() }).optional(),
  })
  .refine((i) => i.customerId !== undefined || i.customer !== undefined, { message: 'give customerId or customer', path: ['customer'] })
  .refine((i) => i.staticIp !== undefined || i.ipPrefixId !== undefined, { message: 'give staticIp or ipPrefixId', path: ['ipPrefixId'] });

export type SubscriberProvisioningInput = z.infer<typeof SubscriberProvisioningInputSchema>;

/** Step results of `subscriber-provisioning`, by step name; skippable steps are optional. */
export interface SubscriberProvisioningResults {
  customer?: CustomerRef;
  subscriber: SubscriberRef;
  radiusAccount: RadiusRef;
  ipAllocation?: IpAllocation;
  onuActivation: OnuRef;
  cpeConfiguration?: CpeTask;
  billingService: ServiceRef;
}

/** What a completed provisioning returns: every id created, for the caller to keep. */
export interface SubscriberProvisioningOutput {
  customerId: string;
  subscriberId: string;
  username: string;
  ipAddress: string;
  onuId: string;
  cpeDeviceId: string | null;
  serviceId: string;
}

// The schema guarantees one of each pair; these read whichever was given or created.
const customerIdOf = (input: SubscriberProvisioningInput, results: SubscriberProvisioningResults) =>
  input.customerId ?? results.customer!.customerId;
const ipOf = (input: SubscriberProvisioningInput, results: SubscriberProvisioningResults) =>
  input.staticIp ?? results.ipAllocation!.address;

/**
 * Provisions a subscriber across CRM, RADIUS, IPAM, the optical network, the
 * CPE and billing, undoing the completed steps in reverse on failure.
 *
 * @remarks 7 steps; invoke ids are the step names (`customer`, `subscriber`,
 * `radiusAccount`, `ipAllocation`, `onuActivation`, `cpeConfiguration`,
 * `billingService`) and `compensate.<step>` for the undo.
 */
export const subscriberProvisioningMachine = defineSaga<
  SubscriberProvisioningInput,
  SubscriberProvisioningResults,
  SubscriberProvisioningOutput
>({
  id: 'subscriber-provisioning',
  description: 'Provision a subscriber in every system, or in none',
  // The RADIUS password: encrypted at rest wherever it appears (input, step input), when keys are configured.
  secrets: ['password'],
  steps: [
    {
      name: 'customer',
      description: 'Create the customer record (skipped when linking an existing customer)',
      action: 'createCustomer',
      compensation: 'deleteCustomer',
      skip: ({ input }) => input.customerId !== undefined,
      input: ({ input }) => ({ name: input.customer!.name, email: input.customer!.email, tenantId: input.tenantId }),
      compensationInput: ({ result }) => ({ customerId: result.customerId }),
    },
    {
      name: 'subscriber',
      description: 'Create the subscriber',
      action: 'createSubscriber',
      compensation: 'deleteSubscriber',
      input: ({ input, results }) => ({ customerId: customerIdOf(input, results), ...input.subscriber }),
      compensationInput: ({ result }) => ({ subscriberId: result.subscriberId }),
    },
    {
      name: 'radiusAccount',
      description: 'Create the RADIUS account',
      action: 'createRadiusAccount',
      compensation: 'deleteRadiusAccount',
      input: ({ input }) => ({
        username: input.subscriber.username,
        password: input.radius.password,
        ...(input.staticIp && { framedIp: input.staticIp }),
        ...(input.radius.rateLimit && { rateLimit: input.radius.rateLimit }),
      }),
      compensationInput: ({ result }) => ({ username: result.username }),
    },
    {
      name: 'ipAllocation',
      description: 'Allocate an IP address in IPAM (skipped with a static IP)',
      action: 'allocateIpAddress',
      compensation: 'releaseIpAddress',
      skip: ({ input }) => input.staticIp !== undefined,
      input: ({ input }) => ({ prefixId: input.ipPrefixId!, description: `subscriber ${input.subscriber.username}` }),
      compensationInput: ({ result }) => ({ addressId: result.addressId }),
    },
    {
      name: 'onuActivation',
      description: 'Activate the ONU on its OLT port',
      action: 'activateOnu',
      compensation: 'deactivateOnu',
      // Network operations on the OLT are slow and flaky: more attempts, longer timeout.
      policy: { maxAttempts: 5, timeoutMs: 60_000 },
      input: ({ input, results }) => ({ ...input.onu, subscriberId: results.subscriber.subscriberId }),
      compensationInput: ({ result }) => ({ onuId: result.onuId }),
    },
    {
      name: 'cpeConfiguration',
      description: 'Push the CPE configuration (skipped without a CPE)',
      action: 'configureCpe',
      compensation: 'resetCpe',
      skip: ({ input }) => input.cpe === undefined,
      input: ({ input }) => ({
        deviceId: input.cpe!.deviceId,
        parameterValues: input.cpe!.parameterValues ?? [
          ['InternetGatewayDevice.WANDevice.1.WANConnectionDevice.1.WANPPPConnection.1.Username', input.subscriber.username, 'xsd:string'],
        ],
      }),
      compensationInput: ({ result }) => ({ deviceId: result.deviceId }),
    },
    {
      name: 'billingService',
      description: 'Add the service to billing',
      action: 'createBillingService',
      compensation: 'removeBillingService',
      input: ({ input, results }) => ({
        customerId: customerIdOf(input, results),
        subscriberId: results.subscriber.subscriberId,
        plan: input.subscriber.plan,
      }),
      compensationInput: ({ result }) => ({ serviceId: result.serviceId }),
    },
  ],
  output: ({ input, results }) => ({
    customerId: customerIdOf(input, results),
    subscriberId: results.subscriber.subscriberId,
    username: results.subscriber.username,
    ipAddress: ipOf(input, results),
    onuId: results.onuActivation.onuId,
    cpeDeviceId: input.cpe?.deviceId ?? null,
    serviceId: results.billingService.serviceId,
  }),
});
