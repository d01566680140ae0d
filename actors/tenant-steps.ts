import type { Clients } from './clients/index.ts';
import { callOptions, defineStep, undo } from './step-helpers.ts';
import type { StepImplementation } from '../runtime/step-types.ts';
import type { UndoResult } from './subscriber-steps.ts';

/**
 * Steps of tenant provisioning on the platform: tenant record, database
 * schema, admin user, DNS/ingress, default plans, billing account,
 * notifications and activation.
 */

export interface CreateTenantInput {
  tenantId: string;
  name: string;
  plan: string;
}
export interface TenantRef {
  tenantId: string;
}
export interface SchemaRef {
  schema: string;
}
export interface CreateTenantAdminInput {
  tenantId: string;
  email: string;
}
export interface UserRef {
  userId: string;
}
export interface CreateTenantIngressInput {
  tenantId: string;
  hostname: string;
}
export interface IngressRef {
  ingressId: string;
  hostname: string;
}
export interface PlansRef {
  planIds: string[];
}
export interface CreateTenantBillingAccountInput {
  tenantId: string;
  ownerName: string;
}
export interface BillingAccountRef {
  accountId: string;
}
export interface NotificationChannelRef {
  channelId: string;
}
export interface TenantStatusResult {
  tenantId: string;
  status: 'active' | 'provisioning' | 'suspended';
}

/**
 * Creates the tenant provisioning steps, named as the machines reference them.
 *
 * @remarks Activation is the last step, so a tenant is only switched on once
 * everything it needs exists; a rollback never has to deactivate it first.
 *
 * @example
 * ```ts
 * await createTenantSteps(clients).createTenantRecord.run({ tenantId: 'acme', name: 'Acme', plan: 'pro' }, ctx);
 * ```
 */
export function createTenantSteps(clients: Clients) {
  const { tenants, billing } = clients;
  return {
    createTenantRecord: defineStep<CreateTenantInput, TenantRef>(async (input, ctx) => {
      const tenant = await tenants.createTenant(input, callOptions(ctx));
      return { tenantId: tenant.tenantId };
    }),
    deleteTenantRecord: defineStep<TenantRef, UndoResult>(async ({ tenantId }, ctx) => ({
      id: tenantId,
      ...(await undo(() => tenants.deleteTenant(tenantId, callOptions(ctx)))),
    })),

    createTenantSchema: defineStep<TenantRef, SchemaRef>(async ({ tenantId }, ctx) => {
      const created = await tenants.createSchema(tenantId, callOptions(ctx));
      return { schema: created.schema };
    }),
    dropTenantSchema: defineStep<SchemaRef, UndoResult>(async ({ schema }, ctx) => ({
      id: schema,
      ...(await undo(() => tenants.dropSchema(schema, callOptions(ctx)))),
    })),

    createTenantAdmin: defineStep<CreateTenantAdminInput, UserRef>(async (input, ctx) => {
      const user = await tenants.createAdminUser(input, callOptions(ctx));
      return { userId: user.userId };
    }),
    deleteTenantAdmin: defineStep<UserRef, UndoResult>(async ({ userId }, ctx) => ({
      id: userId,
      ...(await undo(() => tenants.deleteUser(userId, callOptions(ctx)))),
    })),

    createTenantIngress: defineStep<CreateTenantIngressInput, IngressRef>(async (input, ctx) => {
      const ingress = await tenants.createIngress(input, callOptions(ctx));
      return { ingressId: ingress.ingressId, hostname: ingress.hostname };
    }),
    deleteTenantIngress: defineStep<{ ingressId: string }, UndoResult>(async ({ ingressId }, ctx) => ({
      id: ingressId,
      ...(await undo(() => tenants.deleteIngress(ingressId, callOptions(ctx)))),
    })),

    installDefaultPlans: defineStep<TenantRef, PlansRef>(async ({ tenantId }, ctx) => {
      const installed = await tenants.installDefaultPlans(tenantId, callOptions(ctx));
      return { planIds: [...installed.planIds] };
    }),
    removeTenantPlans: defineStep<PlansRef, UndoResult>(async ({ planIds }, ctx) => ({
      id: planIds.join(','),
      ...(await undo(() => tenants.removePlans(planIds, callOptions(ctx)))),
    })),

    createTenantBillingAccount: defineStep<CreateTenantBillingAccountInput, BillingAccountRef>(async (input, ctx) => {
      // The platform bills the tenant as its customer: the tenant id is the customer id.
      const account = await billing.createAccount({ customerId: input.tenantId, ownerName: input.ownerName }, callOptions(ctx));
      return { accountId: account.accountId };
    }),
    closeTenantBillingAccount: defineStep<BillingAccountRef, UndoResult>(async ({ accountId }, ctx) => ({
      id: accountId,
      ...(await undo(() => billing.closeAccount(accountId, callOptions(ctx)))),
    })),

    enableTenantNotifications: defineStep<TenantRef, NotificationChannelRef>(async ({ tenantId }, ctx) => {
      const channel = await tenants.enableNotifications(tenantId, callOptions(ctx));
      return { channelId: channel.channelId };
    }),
    disableTenantNotifications: defineStep<NotificationChannelRef, UndoResult>(async ({ channelId }, ctx) => ({
      id: channelId,
      ...(await undo(() => tenants.disableNotifications(channelId, callOptions(ctx)))),
    })),

    activateTenant: defineStep<TenantRef, TenantStatusResult>(async ({ tenantId }, ctx) => {
      await tenants.setTenantStatus(tenantId, 'active', callOptions(ctx));
      return { tenantId, status: 'active' };
    }),
  } satisfies Record<string, StepImplementation>;
}

/** The names of the tenant provisioning steps. */
export type TenantStepName = keyof ReturnType<typeof createTenantSteps>;
