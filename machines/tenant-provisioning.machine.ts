import { z } from 'zod';
import type {
  BillingAccountRef,
  IngressRef,
  NotificationChannelRef,
  PlansRef,
  SchemaRef,
  TenantRef,
  TenantStatusResult,
  UserRef,
} from '../actors/tenant-steps.ts';
import { defineSaga } from '../sagas/saga.ts';

/**
 * Input of `tenant-provisioning`.
 *
 * @remarks Start it with the idempotency key `tenant:<tenantId>` so a repeated
 * request finds the running instance instead of provisioning twice.
 */
export const TenantProvisioningInputSchema = z.object({
  tenantId: z.string().regex(/^[a-z][a-z0-9-]{1,62}$/, 'lowercase letters, digits and "-"'),
  name: z.string().min(1),
  plan: z.string().min(1),
  adminEmail: z.email(),
  hostname: z.string().regex(/^[a-z0-9.-]+$/, 'a DNS name'),
});

export type TenantProvisioningInput = z.infer<typeof TenantProvisioningInputSchema>;

/** Step results of `tenant-provisioning`, by step name. */
export interface TenantProvisioningResults {
  tenant: TenantRef;
  database: SchemaRef;
  adminUser: UserRef;
  ingress: IngressRef;
  plans: PlansRef;
  billingAccount: BillingAccountRef;
  notifications: NotificationChannelRef;
  activation: TenantStatusResult;
}

/** What a completed tenant provisioning returns. */
export interface TenantProvisioningOutput {
  tenantId: string;
  schema: string;
  adminUserId: string;
  hostname: string;
  planIds: string[];
  billingAccountId: string;
  notificationChannelId: string;
}

/**
 * Provisions a platform tenant in 8 steps, undoing the completed ones in
 * reverse on failure.
 *
 * @remarks Invoke ids are the step names (`tenant`, `database`, `adminUser`,
 * `ingress`, `plans`, `billingAccount`, `notifications`, `activation`) and
 * `compensate.<step>`. Activation is last and has no undo: it can only be
 * undone by a cancel arriving while it runs, and then deleting the tenant
 * record (the first step's undo) removes it anyway.
 */
export const tenantProvisioningMachine = defineSaga<TenantProvisioningInput, TenantProvisioningResults, TenantProvisioningOutput>({
  id: 'tenant-provisioning',
  description: 'Provision a tenant: record, database, admin, DNS/ingress, plans, billing, notifications, activation',
  steps: [
    {
      name: 'tenant',
      description: 'Create the tenant record',
      action: 'createTenantRecord',
      compensation: 'deleteTenantRecord',
      input: ({ input }) => ({ tenantId: input.tenantId, name: input.name, plan: input.plan }),
      compensationInput: ({ result }) => ({ tenantId: result.tenantId }),
    },
    {
      name: 'database',
      description: 'Create the tenant database schema',
      action: 'createTenantSchema',
      compensation: 'dropTenantSchema',
      // Schema creation runs migrations: slower than the other calls.
      policy: { maxAttempts: 3, timeoutMs: 120_000 },
      input: ({ results }) => ({ tenantId: results.tenant.tenantId }),
      compensationInput: ({ result }) => ({ schema: result.schema }),
    },
    {
      name: 'adminUser',
      description: 'Create the tenant administrator',
      action: 'createTenantAdmin',
      compensation: 'deleteTenantAdmin',
      input: ({ input, results }) => ({ tenantId: results.tenant.tenantId, email: input.adminEmail }),
      compensationInput: ({ result }) => ({ userId: result.userId }),
    },
    {
      name: 'ingress',
      description: 'Create the DNS record and ingress',
      action: 'createTenantIngress',
      compensation: 'deleteTenantIngress',
      policy: { maxAttempts: 5 },
      input: ({ input, results }) => ({ tenantId: results.tenant.tenantId, hostname: input.hostname }),
      compensationInput: ({ result }) => ({ ingressId: result.ingressId }),
    },
    {
      name: 'plans',
      description: 'Install the default plans',
      action: 'installDefaultPlans',
      compensation: 'removeTenantPlans',
      input: ({ results }) => ({ tenantId: results.tenant.tenantId }),
      compensationInput: ({ result }) => ({ planIds: result.planIds }),
    },
    {
      name: 'billingAccount',
      description: 'Open the tenant billing account',
      action: 'createTenantBillingAccount',
      compensation: 'closeTenantBillingAccount',
      input: ({ input, results }) => ({ tenantId: results.tenant.tenantId, ownerName: input.name }),
      compensationInput: ({ result }) => ({ accountId: result.accountId }),
    },
    {
      name: 'notifications',
      description: 'Enable the notification channel',
      action: 'enableTenantNotifications',
      compensation: 'disableTenantNotifications',
      input: ({ results }) => ({ tenantId: results.tenant.tenantId }),
      compensationInput: ({ result }) => ({ channelId: result.channelId }),
    },
    {
      name: 'activation',
      description: 'Switch the tenant on',
      action: 'activateTenant',
      input: ({ results }) => ({ tenantId: results.tenant.tenantId }),
    },
  ],
  output: ({ results }) => ({
    tenantId: results.tenant.tenantId,
    schema: results.database.schema,
    adminUserId: results.adminUser.userId,
    hostname: results.ingress.hostname,
    planIds: results.plans.planIds,
    billingAccountId: results.billingAccount.accountId,
    notificationChannelId: results.notifications.channelId,
  }),
});
