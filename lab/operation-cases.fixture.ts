import type { CallOptions, Clients } from '../actors/clients/index.ts';
import type { Lab } from './lab.ts';

// One call of every mutating operation, with what it needs set up first;
// shared by the in-process and the HTTP idempotency tests.

let n = 0;
/** Fresh call options with a unique key. */
export const key = (): CallOptions => ({ idempotencyKey: `idem-${++n}` });

/** Everything a system holds, histories included, so a second record anywhere shows. */
export async function inventory(lab: Lab): Promise<string> {
  return JSON.stringify({
    records: await lab.records(),
    subscribers: lab.systems.customers.records(),
    charges: lab.systems.payments.allCharges(),
    invoices: lab.systems.billing.allInvoices(),
    tasks: lab.systems.cpe.tasks().map((t) => t._id),
  });
}

/** One operation under test. */
export interface OperationCase {
  name: string;
  /** Creates what the call needs and returns the call. */
  setup: (c: Clients) => Promise<(o: CallOptions) => Promise<unknown>>;
  /** Whether the same call with another key creates another record (proves the dedup is by key). */
  createsPerKey?: boolean;
}

const customer = (c: Clients) => c.customers.createCustomer({ name: 'Ada', email: 'ada@example.net' }, key());
const subscriber = async (c: Clients) =>
  c.customers.createSubscriber({ customerId: (await customer(c)).id, username: 'ada', plan: 'basic' }, key());
const account = (c: Clients) => c.billing.createAccount({ customerId: 'cust_x', ownerName: 'Ada' }, key());
const tenant = (c: Clients) => c.tenants.createTenant({ tenantId: 'acme', name: 'Acme', plan: 'pro' }, key());

/** Every mutating operation of every client. */
export const operationCases: OperationCase[] = [
  {
    name: 'customers.createCustomer',
    createsPerKey: true,
    setup: async (c) => (o) => c.customers.createCustomer({ name: 'Bo', email: 'bo@example.net' }, o),
  },
  {
    name: 'customers.deleteCustomer',
    setup: async (c) => {
      const { id } = await customer(c);
      return (o) => c.customers.deleteCustomer(id, o);
    },
  },
  {
    name: 'customers.createSubscriber',
    setup: async (c) => {
      const { id } = await customer(c);
      return (o) => c.customers.createSubscriber({ customerId: id, username: 'bo', plan: 'basic' }, o);
    },
  },
  {
    name: 'customers.deleteSubscriber',
    setup: async (c) => {
      const { id } = await subscriber(c);
      return (o) => c.customers.deleteSubscriber(id, o);
    },
  },
  {
    name: 'customers.setSubscriberStatus',
    setup: async (c) => {
      const { id } = await subscriber(c);
      return (o) => c.customers.setSubscriberStatus(id, 'suspended', o);
    },
  },
  {
    name: 'radius.createAccount',
    setup: async (c) => (o) =>
      c.radius.createAccount({ username: 'ada', password: 's3cret', framedIp: '10.0.0.5/24', rateLimit: '10M/50M' }, o),
  },
  {
    name: 'radius.deleteAccount',
    setup: async (c) => {
      await c.radius.createAccount({ username: 'ada', password: 'pw' }, key());
      return (o) => c.radius.deleteAccount('ada', o);
    },
  },
  {
    name: 'radius.setSuspended',
    setup: async (c) => {
      await c.radius.createAccount({ username: 'ada', password: 'pw' }, key());
      return (o) => c.radius.setSuspended('ada', true, o);
    },
  },
  {
    name: 'ipam.allocateAddress',
    createsPerKey: true,
    setup: async (c) => (o) => c.ipam.allocateAddress({ prefixId: 1, description: 'ada' }, o),
  },
  {
    name: 'ipam.releaseAddress',
    setup: async (c) => {
      const { id } = await c.ipam.allocateAddress({ prefixId: 1, description: 'x' }, key());
      return (o) => c.ipam.releaseAddress(id, o);
    },
  },
  {
    name: 'onu.activate',
    setup: async (c) => (o) => c.onu.activate({ serialNumber: 'ALCLf0e1d2c3', oltPort: 'olt1/1/1', subscriberId: 'sub_1' }, o),
  },
  {
    name: 'onu.deactivate',
    setup: async (c) => {
      const { onuId } = await c.onu.activate({ serialNumber: 'ALCLf0e1d2c3', oltPort: 'olt1/1/1', subscriberId: 'sub_1' }, key());
      return (o) => c.onu.deactivate(onuId, o);
    },
  },
  {
    name: 'cpe.configure',
    createsPerKey: true,
    setup: async (c) => (o) => c.cpe.configure({ deviceId: 'dev-1', parameterValues: [['Device.WiFi.SSID.1.SSID', 'ada']] }, o),
  },
  { name: 'cpe.reset', createsPerKey: true, setup: async (c) => (o) => c.cpe.reset('dev-1', o) },
  {
    name: 'billing.createAccount',
    createsPerKey: true,
    setup: async (c) => (o) => c.billing.createAccount({ customerId: 'cust_1', ownerName: 'Ada' }, o),
  },
  {
    name: 'billing.closeAccount',
    setup: async (c) => {
      const { accountId } = await account(c);
      return (o) => c.billing.closeAccount(accountId, o);
    },
  },
  {
    name: 'billing.addService',
    createsPerKey: true,
    setup: async (c) => (o) => c.billing.addService({ customerId: 'cust_1', subscriberId: 'sub_1', plan: 'basic' }, o),
  },
  {
    name: 'billing.removeService',
    setup: async (c) => {
      const { serviceId } = await c.billing.addService({ customerId: 'cust_1', subscriberId: 'sub_1', plan: 'basic' }, key());
      return (o) => c.billing.removeService(serviceId, o);
    },
  },
  {
    name: 'billing.setServiceStatus',
    setup: async (c) => {
      const { serviceId } = await c.billing.addService({ customerId: 'cust_1', subscriberId: 'sub_1', plan: 'basic' }, key());
      return (o) => c.billing.setServiceStatus(serviceId, 'suspended', o);
    },
  },
  {
    name: 'billing.rateUsage',
    setup: async (c) => {
      const { accountId } = await account(c);
      return (o) => c.billing.rateUsage({ accountId, period: '2025-10' }, o);
    },
  },
  {
    name: 'billing.createInvoice',
    createsPerKey: true,
    setup: async (c) => {
      const { accountId } = await account(c);
      return (o) => c.billing.createInvoice({ accountId, period: '2025-10', amountCents: 4900 }, o);
    },
  },
  {
    name: 'billing.voidInvoice',
    setup: async (c) => {
      const { invoiceId } = await c.billing.createInvoice(
        { accountId: (await account(c)).accountId, period: '2025-10', amountCents: 1 },
        key(),
      );
      return (o) => c.billing.voidInvoice(invoiceId, o);
    },
  },
  {
    name: 'billing.markInvoicePaid',
    setup: async (c) => {
      const { invoiceId } = await c.billing.createInvoice(
        { accountId: (await account(c)).accountId, period: '2025-10', amountCents: 1 },
        key(),
      );
      return (o) => c.billing.markInvoicePaid(invoiceId, 'ch_1', o);
    },
  },
  {
    name: 'payments.createCustomer',
    createsPerKey: true,
    setup: async (c) => (o) => c.payments.createCustomer({ email: 'ada@example.net', name: 'Ada' }, o),
  },
  {
    name: 'payments.deleteCustomer',
    setup: async (c) => {
      const { paymentCustomerId } = await c.payments.createCustomer({ email: 'ada@example.net', name: 'Ada' }, key());
      return (o) => c.payments.deleteCustomer(paymentCustomerId, o);
    },
  },
  {
    name: 'payments.charge',
    createsPerKey: true,
    setup: async (c) => (o) => c.payments.charge({ accountId: 'acct_1', amountCents: 4900, currency: 'EUR' }, o),
  },
  {
    name: 'payments.refund',
    setup: async (c) => {
      const { paymentId } = await c.payments.charge({ accountId: 'acct_1', amountCents: 4900, currency: 'EUR' }, key());
      return (o) => c.payments.refund(paymentId, o);
    },
  },
  {
    name: 'messaging.sendEmail',
    createsPerKey: true,
    setup: async (c) => (o) => c.messaging.sendEmail({ to: 'ada@example.net', template: 'welcome' }, o),
  },
  {
    name: 'messaging.sendSms',
    createsPerKey: true,
    setup: async (c) => (o) => c.messaging.sendSms({ to: '+4915112345678', text: 'Welcome' }, o),
  },
  { name: 'tenants.createTenant', setup: async (c) => (o) => c.tenants.createTenant({ tenantId: 'acme', name: 'Acme', plan: 'pro' }, o) },
  {
    name: 'tenants.deleteTenant',
    setup: async (c) => {
      await tenant(c);
      return (o) => c.tenants.deleteTenant('acme', o);
    },
  },
  {
    name: 'tenants.createSchema',
    setup: async (c) => {
      await tenant(c);
      return (o) => c.tenants.createSchema('acme', o);
    },
  },
  {
    name: 'tenants.dropSchema',
    setup: async (c) => {
      await tenant(c);
      const { schema } = await c.tenants.createSchema('acme', key());
      return (o) => c.tenants.dropSchema(schema, o);
    },
  },
  {
    name: 'tenants.createAdminUser',
    setup: async (c) => {
      await tenant(c);
      return (o) => c.tenants.createAdminUser({ tenantId: 'acme', email: 'root@acme.example' }, o);
    },
  },
  {
    name: 'tenants.deleteUser',
    setup: async (c) => {
      await tenant(c);
      const { userId } = await c.tenants.createAdminUser({ tenantId: 'acme', email: 'root@acme.example' }, key());
      return (o) => c.tenants.deleteUser(userId, o);
    },
  },
  {
    name: 'tenants.createIngress',
    setup: async (c) => {
      await tenant(c);
      return (o) => c.tenants.createIngress({ tenantId: 'acme', hostname: 'acme.isp.example' }, o);
    },
  },
  {
    name: 'tenants.deleteIngress',
    setup: async (c) => {
      await tenant(c);
      const { ingressId } = await c.tenants.createIngress({ tenantId: 'acme', hostname: 'acme.isp.example' }, key());
      return (o) => c.tenants.deleteIngress(ingressId, o);
    },
  },
  {
    name: 'tenants.installDefaultPlans',
    setup: async (c) => {
      await tenant(c);
      return (o) => c.tenants.installDefaultPlans('acme', o);
    },
  },
  {
    name: 'tenants.removePlans',
    setup: async (c) => {
      await tenant(c);
      const { planIds } = await c.tenants.installDefaultPlans('acme', key());
      return (o) => c.tenants.removePlans(planIds, o);
    },
  },
  {
    name: 'tenants.enableNotifications',
    setup: async (c) => {
      await tenant(c);
      return (o) => c.tenants.enableNotifications('acme', o);
    },
  },
  {
    name: 'tenants.disableNotifications',
    setup: async (c) => {
      await tenant(c);
      const { channelId } = await c.tenants.enableNotifications('acme', key());
      return (o) => c.tenants.disableNotifications(channelId, o);
    },
  },
  {
    name: 'tenants.setTenantStatus',
    setup: async (c) => {
      await tenant(c);
      return (o) => c.tenants.setTenantStatus('acme', 'active', o);
    },
  },
];
