import { ExternalSystemError, type Clients } from './clients/index.ts';
import type { StepContext } from '../runtime/step-types.ts';

/**
 * Hand-written fakes of the client interfaces for step tests: every call is
 * recorded with its arguments, answers are fixed, and failures can be set per
 * operation. Test-only; nothing outside `*.test.ts` imports this file.
 */

/** One recorded client call. */
export interface FakeCall {
  op: string;
  args: unknown[];
}

/** A step context with a fixed idempotency key and clock. */
export function fakeContext(overrides: Partial<StepContext> = {}): StepContext {
  return {
    idempotencyKey: 'inst_1:step:1',
    attempt: 1,
    signal: new AbortController().signal,
    instanceId: 'inst_1',
    tenant: 'tenant_1',
    now: () => new Date('2025-09-30T00:00:00Z'),
    ...overrides,
  };
}

/** A 404 as the clients report it. */
export const notFound = (system: string, op: string) => new ExternalSystemError(system, op, 'not found', false, 404);

/** Fake clients, their call log, and a switch to make an operation fail. */
export function createFakeClients() {
  const calls: FakeCall[] = [];
  const failures = new Map<string, Error>();
  const rec =
    <A extends unknown[], R>(op: string, answer: (...args: A) => R) =>
    async (...args: A): Promise<R> => {
      calls.push({ op, args });
      const failure = failures.get(op);
      if (failure) throw failure;
      return answer(...args);
    };

  const clients: Clients = {
    customers: {
      createCustomer: rec('customers.createCustomer', (req) => ({ id: 'cus_1', ...req })),
      deleteCustomer: rec('customers.deleteCustomer', () => undefined),
      createSubscriber: rec('customers.createSubscriber', (req) => ({ id: 'sub_1', ...req, status: 'active' as const })),
      deleteSubscriber: rec('customers.deleteSubscriber', () => undefined),
      setSubscriberStatus: rec('customers.setSubscriberStatus', (id, status) => ({
        id,
        customerId: 'cus_1',
        username: 'ada',
        plan: 'fiber',
        status,
      })),
    },
    radius: {
      createAccount: rec('radius.createAccount', (req) => ({ username: req.username })),
      deleteAccount: rec('radius.deleteAccount', () => undefined),
      setSuspended: rec('radius.setSuspended', () => undefined),
    },
    ipam: {
      allocateAddress: rec('ipam.allocateAddress', () => ({ id: 11, address: '198.51.100.11/32' })),
      releaseAddress: rec('ipam.releaseAddress', () => undefined),
    },
    onu: {
      activate: rec('onu.activate', () => ({ onuId: 'onu_1' })),
      deactivate: rec('onu.deactivate', () => undefined),
    },
    cpe: {
      configure: rec('cpe.configure', () => ({ taskId: 'task_1' })),
      reset: rec('cpe.reset', () => ({ taskId: 'task_reset' })),
    },
    billing: {
      createAccount: rec('billing.createAccount', () => ({ accountId: 'acc_1' })),
      closeAccount: rec('billing.closeAccount', () => undefined),
      addService: rec('billing.addService', () => ({ serviceId: 'svc_1' })),
      removeService: rec('billing.removeService', () => undefined),
      setServiceStatus: rec('billing.setServiceStatus', () => undefined),
      listBillableAccounts: rec('billing.listBillableAccounts', () => [
        { accountId: 'acc_b', customerId: 'cus_b' },
        { accountId: 'acc_a', customerId: 'cus_a' },
      ]),
      rateUsage: rec('billing.rateUsage', () => ({ amountCents: 4200 })),
      createInvoice: rec('billing.createInvoice', () => ({ invoiceId: 'inv_1' })),
      voidInvoice: rec('billing.voidInvoice', () => undefined),
      markInvoicePaid: rec('billing.markInvoicePaid', () => undefined),
    },
    payments: {
      createCustomer: rec('payments.createCustomer', () => ({ paymentCustomerId: 'pc_1' })),
      deleteCustomer: rec('payments.deleteCustomer', () => undefined),
      charge: rec('payments.charge', () => ({ paymentId: 'pay_1', status: 'succeeded' as const })),
      refund: rec('payments.refund', () => undefined),
    },
    messaging: {
      sendEmail: rec('messaging.sendEmail', () => ({ messageId: 'msg_1' })),
      sendSms: rec('messaging.sendSms', () => ({ messageId: 'sms_1' })),
    },
    tenants: {
      createTenant: rec('tenants.createTenant', (req) => ({ tenantId: req.tenantId })),
      deleteTenant: rec('tenants.deleteTenant', () => undefined),
      createSchema: rec('tenants.createSchema', (tenantId) => ({ schema: `tenant_${tenantId}` })),
      dropSchema: rec('tenants.dropSchema', () => undefined),
      createAdminUser: rec('tenants.createAdminUser', () => ({ userId: 'usr_1' })),
      deleteUser: rec('tenants.deleteUser', () => undefined),
      createIngress: rec('tenants.createIngress', (req) => ({ ingressId: 'ing_1', hostname: req.hostname })),
      deleteIngress: rec('tenants.deleteIngress', () => undefined),
      installDefaultPlans: rec('tenants.installDefaultPlans', () => ({ planIds: ['basic', 'pro'] })),
      removePlans: rec('tenants.removePlans', () => undefined),
      enableNotifications: rec('tenants.enableNotifications', () => ({ channelId: 'ch_1' })),
      disableNotifications: rec('tenants.disableNotifications', () => undefined),
      setTenantStatus: rec('tenants.setTenantStatus', () => undefined),
    },
  };

  return {
    clients,
    calls,
    /** Makes every later call of `op` (e.g. `'radius.deleteAccount'`) throw `error`; `null` heals it. */
    failWith(op: string, error: Error | null) {
      if (error) failures.set(op, error);
      else failures.delete(op);
    },
    /** The recorded calls of one operation. */
    callsOf(op: string) {
      return calls.filter((c) => c.op === op).map((c) => c.args);
    },
  };
}
