import type {
  BillingClient,
  Clients,
  CpeClient,
  CustomerClient,
  IpamClient,
  MessagingClient,
  OnuClient,
  PaymentsClient,
  RadiusClient,
  TenantInfraClient,
} from '../../actors/clients/index.ts';
import type { CpeTask } from '../cpe-system.ts';
import type { IpAddress } from '../ipam-system.ts';
import { LabHttpTransport, seg, type HttpClientsOptions } from './http-transport.ts';

/**
 * The {@link Clients} over the lab's HTTP service ({@link createLabApp}).
 *
 * @remarks HTTP errors become `ExternalSystemError`s with `retryable` set for
 * 5xx and 429; the call's AbortSignal goes to `fetch`.
 *
 * @example
 * ```ts
 * const clients = createHttpClients('http://localhost:4010');
 * await clients.onu.activate({ serialNumber: 'ALCLf0e1d2c3', oltPort: 'olt1/1/1', subscriberId: 's' }, { idempotencyKey: 'k' });
 * ```
 */
export function createHttpClients(baseUrl: string, options: HttpClientsOptions = {}): Clients {
  const http = new LabHttpTransport(baseUrl, options);
  const customers: CustomerClient = {
    createCustomer: (body, o) => http.send('customers', 'createCustomer', { method: 'POST', path: '/crm/customers', body, options: o }),
    deleteCustomer: (id, o) =>
      http.send('customers', 'deleteCustomer', { method: 'DELETE', path: `/crm/customers/${seg(id)}`, options: o }),
    createSubscriber: (body, o) =>
      http.send('customers', 'createSubscriber', { method: 'POST', path: '/crm/subscribers', body, options: o }),
    deleteSubscriber: (id, o) =>
      http.send('customers', 'deleteSubscriber', { method: 'DELETE', path: `/crm/subscribers/${seg(id)}`, options: o }),
    setSubscriberStatus: (id, status, o) =>
      http.send('customers', 'setSubscriberStatus', {
        method: 'PUT',
        path: `/crm/subscribers/${seg(id)}/status`,
        body: { status },
        options: o,
      }),
  };
  const radius: RadiusClient = {
    createAccount: (body, o) => http.send('radius', 'createAccount', { method: 'POST', path: '/radius/accounts', body, options: o }),
    deleteAccount: (username, o) =>
      http.send('radius', 'deleteAccount', { method: 'DELETE', path: `/radius/accounts/${seg(username)}`, options: o }),
    setSuspended: (username, suspended, o) =>
      http.send('radius', 'setSuspended', {
        method: 'PUT',
        path: `/radius/accounts/${seg(username)}/suspension`,
        body: { suspended },
        options: o,
      }),
  };
  const ipam: IpamClient = {
    allocateAddress: ({ prefixId, description }, o) =>
      http.send<IpAddress>('ipam', 'allocateAddress', {
        method: 'POST',
        path: `/api/ipam/prefixes/${seg(prefixId)}/available-ips/`,
        body: { description },
        options: o,
      }),
    releaseAddress: (id, o) =>
      http.send('ipam', 'releaseAddress', { method: 'DELETE', path: `/api/ipam/ip-addresses/${seg(id)}/`, options: o }),
  };
  const onu: OnuClient = {
    activate: (body, o) => http.send('onu', 'activate', { method: 'POST', path: '/onu/activations', body, options: o }),
    deactivate: (id, o) => http.send('onu', 'deactivate', { method: 'DELETE', path: `/onu/activations/${seg(id)}`, options: o }),
  };
  const task = async (operation: keyof CpeClient, deviceId: string, body: unknown, o: Parameters<CpeClient['reset']>[1]) => {
    const created = await http.send<CpeTask>('cpe', operation, {
      method: 'POST',
      path: `/devices/${seg(deviceId)}/tasks`,
      body,
      options: o,
    });
    return { taskId: created._id };
  };
  const cpe: CpeClient = {
    configure: ({ deviceId, parameterValues }, o) => task('configure', deviceId, { name: 'setParameterValues', parameterValues }, o),
    reset: (deviceId, o) => task('reset', deviceId, { name: 'factoryReset' }, o),
  };
  const billing: BillingClient = {
    createAccount: (body, o) => http.send('billing', 'createAccount', { method: 'POST', path: '/billing/accounts', body, options: o }),
    closeAccount: (id, o) =>
      http.send('billing', 'closeAccount', { method: 'POST', path: `/billing/accounts/${seg(id)}/close`, options: o }),
    addService: (body, o) => http.send('billing', 'addService', { method: 'POST', path: '/billing/services', body, options: o }),
    removeService: (id, o) => http.send('billing', 'removeService', { method: 'DELETE', path: `/billing/services/${seg(id)}`, options: o }),
    setServiceStatus: (id, status, o) =>
      http.send('billing', 'setServiceStatus', {
        method: 'PUT',
        path: `/billing/services/${seg(id)}/status`,
        body: { status },
        options: o,
      }),
    listBillableAccounts: ({ period }, o) =>
      http.send('billing', 'listBillableAccounts', {
        method: 'GET',
        path: `/billing/billable-accounts?period=${seg(period)}`,
        options: { signal: o?.signal },
      }),
    rateUsage: (body, o) => http.send('billing', 'rateUsage', { method: 'POST', path: '/billing/usage-ratings', body, options: o }),
    createInvoice: (body, o) => http.send('billing', 'createInvoice', { method: 'POST', path: '/billing/invoices', body, options: o }),
    voidInvoice: (id, o) => http.send('billing', 'voidInvoice', { method: 'POST', path: `/billing/invoices/${seg(id)}/void`, options: o }),
    markInvoicePaid: (id, paymentId, o) =>
      http.send('billing', 'markInvoicePaid', {
        method: 'POST',
        path: `/billing/invoices/${seg(id)}/paid`,
        body: { paymentId },
        options: o,
      }),
  };
  const payments: PaymentsClient = {
    createCustomer: (body, o) => http.send('payments', 'createCustomer', { method: 'POST', path: '/payments/customers', body, options: o }),
    deleteCustomer: (id, o) =>
      http.send('payments', 'deleteCustomer', { method: 'DELETE', path: `/payments/customers/${seg(id)}`, options: o }),
    charge: (body, o) => http.send('payments', 'charge', { method: 'POST', path: '/payments/charges', body, options: o }),
    refund: (paymentId, o) =>
      http.send('payments', 'refund', { method: 'POST', path: '/payments/refunds', body: { paymentId }, options: o }),
  };
  const messaging: MessagingClient = {
    sendEmail: (body, o) => http.send('messaging', 'sendEmail', { method: 'POST', path: '/messaging/emails', body, options: o }),
    sendSms: (body, o) => http.send('messaging', 'sendSms', { method: 'POST', path: '/messaging/sms', body, options: o }),
  };
  return { customers, radius, ipam, onu, cpe, billing, payments, messaging, tenants: createHttpTenantClient(http) };
}

function createHttpTenantClient(http: LabHttpTransport): TenantInfraClient {
  const post = <T>(operation: string, path: string, o: Parameters<TenantInfraClient['deleteTenant']>[1], body?: unknown) =>
    http.send<T>('tenants', operation, { method: 'POST', path, body, options: o });
  const del = (operation: string, path: string, o: Parameters<TenantInfraClient['deleteTenant']>[1]) =>
    http.send<void>('tenants', operation, { method: 'DELETE', path, options: o });
  return {
    createTenant: (body, o) => post('createTenant', '/infra/tenants', o, body),
    deleteTenant: (id, o) => del('deleteTenant', `/infra/tenants/${seg(id)}`, o),
    createSchema: (id, o) => post('createSchema', `/infra/tenants/${seg(id)}/schema`, o),
    dropSchema: (schema, o) => del('dropSchema', `/infra/schemas/${seg(schema)}`, o),
    createAdminUser: ({ tenantId, email }, o) => post('createAdminUser', `/infra/tenants/${seg(tenantId)}/admin-users`, o, { email }),
    deleteUser: (id, o) => del('deleteUser', `/infra/users/${seg(id)}`, o),
    createIngress: ({ tenantId, hostname }, o) => post('createIngress', `/infra/tenants/${seg(tenantId)}/ingresses`, o, { hostname }),
    deleteIngress: (id, o) => del('deleteIngress', `/infra/ingresses/${seg(id)}`, o),
    installDefaultPlans: (id, o) => post('installDefaultPlans', `/infra/tenants/${seg(id)}/default-plans`, o),
    removePlans: (planIds, o) => post('removePlans', '/infra/plans/removals', o, { planIds }),
    enableNotifications: (id, o) => post('enableNotifications', `/infra/tenants/${seg(id)}/notification-channels`, o),
    disableNotifications: (id, o) => del('disableNotifications', `/infra/notification-channels/${seg(id)}`, o),
    setTenantStatus: (id, status, o) =>
      http.send('tenants', 'setTenantStatus', { method: 'PUT', path: `/infra/tenants/${seg(id)}/status`, body: { status }, options: o }),
  };
}
