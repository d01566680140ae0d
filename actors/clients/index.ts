/**
 * Interfaces of the external systems the bundled step actors talk to.
 *
 * @remarks Step actors receive these clients by configuration: the lab
 * (`lab/`) implements all of them for tests and `npm start`; a user
 * points them at their real systems by supplying other implementations.
 * Every mutating call takes the step's idempotency key: a second call with the
 * same key must return the first result and create nothing new.
 */

/** Options every mutating call accepts. */
export interface CallOptions {
  readonly idempotencyKey: string;
  readonly signal?: AbortSignal;
  /**
   * Apply nothing: answer with the result the call made earlier with this key
   * produced, or fail with status 404 when no call with it was applied.
   * @remarks How a saga undoes a step whose outcome is unknown (its response
   * was lost, it timed out): it asks by the key whether the call applied and
   * what it created, then compensates that. A real system offers the same
   * through its idempotency records or a lookup by client reference.
   */
  readonly lookupOnly?: boolean;
}

export interface Customer {
  id: string;
  name: string;
  email: string;
  tenantId?: string;
}
export interface Subscriber {
  id: string;
  customerId: string;
  username: string;
  plan: string;
  status: 'active' | 'suspended' | 'deleted';
}

/** Customer and subscriber records (the BSS/CRM of the operator). */
export interface CustomerClient {
  createCustomer(req: { name: string; email: string; tenantId?: string }, o: CallOptions): Promise<Customer>;
  deleteCustomer(customerId: string, o: CallOptions): Promise<void>;
  createSubscriber(req: { customerId: string; username: string; plan: string }, o: CallOptions): Promise<Subscriber>;
  deleteSubscriber(subscriberId: string, o: CallOptions): Promise<void>;
  setSubscriberStatus(subscriberId: string, status: 'active' | 'suspended', o: CallOptions): Promise<Subscriber>;
}

/** RADIUS accounts, stored as FreeRADIUS SQL `radcheck` / `radreply` rows. */
export interface RadiusClient {
  createAccount(
    req: { username: string; password: string; framedIp?: string; rateLimit?: string },
    o: CallOptions,
  ): Promise<{ username: string }>;
  deleteAccount(username: string, o: CallOptions): Promise<void>;
  /** Suspend = `Auth-Type := Reject` in radcheck; resume removes it. */
  setSuspended(username: string, suspended: boolean, o: CallOptions): Promise<void>;
}

/** IP address management in the NetBox REST shape (`/api/ipam/prefixes/{id}/available-ips/`). */
export interface IpamClient {
  allocateAddress(req: { prefixId: number; description: string }, o: CallOptions): Promise<{ id: number; address: string }>;
  releaseAddress(addressId: number, o: CallOptions): Promise<void>;
}

/** Optical network: ONU activation on an OLT port. */
export interface OnuClient {
  activate(req: { serialNumber: string; oltPort: string; subscriberId: string }, o: CallOptions): Promise<{ onuId: string }>;
  deactivate(onuId: string, o: CallOptions): Promise<void>;
}

/** CPE configuration through the GenieACS NBI task shape (`POST /devices/{id}/tasks`). */
export interface CpeClient {
  configure(
    req: { deviceId: string; parameterValues: [string, string | number | boolean, string?][] },
    o: CallOptions,
  ): Promise<{ taskId: string }>;
  /** Restores the device's factory configuration (the undo of `configure`). */
  reset(deviceId: string, o: CallOptions): Promise<{ taskId: string }>;
}

/** Billing: accounts, services on them, invoices. */
export interface BillingClient {
  createAccount(req: { customerId: string; ownerName: string }, o: CallOptions): Promise<{ accountId: string }>;
  closeAccount(accountId: string, o: CallOptions): Promise<void>;
  addService(req: { customerId: string; subscriberId: string; plan: string }, o: CallOptions): Promise<{ serviceId: string }>;
  removeService(serviceId: string, o: CallOptions): Promise<void>;
  setServiceStatus(serviceId: string, status: 'active' | 'suspended', o: CallOptions): Promise<void>;
  listBillableAccounts(req: { period: string }, o?: { signal?: AbortSignal }): Promise<{ accountId: string; customerId: string }[]>;
  rateUsage(req: { accountId: string; period: string }, o: CallOptions): Promise<{ amountCents: number }>;
  createInvoice(req: { accountId: string; period: string; amountCents: number }, o: CallOptions): Promise<{ invoiceId: string }>;
  voidInvoice(invoiceId: string, o: CallOptions): Promise<void>;
  markInvoicePaid(invoiceId: string, paymentId: string, o: CallOptions): Promise<void>;
}

/** Payment provider; repeats with the same `Idempotency-Key` return the first result. */
export interface PaymentsClient {
  createCustomer(req: { email: string; name: string }, o: CallOptions): Promise<{ paymentCustomerId: string }>;
  deleteCustomer(paymentCustomerId: string, o: CallOptions): Promise<void>;
  charge(
    req: { accountId: string; amountCents: number; currency: string },
    o: CallOptions,
  ): Promise<{ paymentId: string; status: 'succeeded' | 'declined' }>;
  refund(paymentId: string, o: CallOptions): Promise<void>;
}

/** Outbound messages; the outbox keeps every message, deduplicated by idempotency key. */
export interface MessagingClient {
  sendEmail(req: { to: string; template: string; data?: Record<string, unknown> }, o: CallOptions): Promise<{ messageId: string }>;
  sendSms(req: { to: string; text: string }, o: CallOptions): Promise<{ messageId: string }>;
}

/** Platform infrastructure for tenants: databases, DNS/ingress, users, plans, notifications. */
export interface TenantInfraClient {
  createTenant(req: { tenantId: string; name: string; plan: string }, o: CallOptions): Promise<{ tenantId: string }>;
  deleteTenant(tenantId: string, o: CallOptions): Promise<void>;
  createSchema(tenantId: string, o: CallOptions): Promise<{ schema: string }>;
  dropSchema(schema: string, o: CallOptions): Promise<void>;
  createAdminUser(req: { tenantId: string; email: string }, o: CallOptions): Promise<{ userId: string }>;
  deleteUser(userId: string, o: CallOptions): Promise<void>;
  createIngress(req: { tenantId: string; hostname: string }, o: CallOptions): Promise<{ ingressId: string; hostname: string }>;
  deleteIngress(ingressId: string, o: CallOptions): Promise<void>;
  installDefaultPlans(tenantId: string, o: CallOptions): Promise<{ planIds: string[] }>;
  removePlans(planIds: string[], o: CallOptions): Promise<void>;
  enableNotifications(tenantId: string, o: CallOptions): Promise<{ channelId: string }>;
  disableNotifications(channelId: string, o: CallOptions): Promise<void>;
  setTenantStatus(tenantId: string, status: 'active' | 'provisioning' | 'suspended', o: CallOptions): Promise<void>;
}

/** The set of clients the bundled step actors need. */
export interface Clients {
  customers: CustomerClient;
  radius: RadiusClient;
  ipam: IpamClient;
  onu: OnuClient;
  cpe: CpeClient;
  billing: BillingClient;
  payments: PaymentsClient;
  messaging: MessagingClient;
  tenants: TenantInfraClient;
}

/**
 * Error a client throws for a failed call.
 * @remarks `retryable: false` tells the runtime not to retry (a declined card, a validation error).
 */
export class ExternalSystemError extends Error {
  override readonly name = 'ExternalSystemError';
  constructor(
    readonly system: string,
    readonly operation: string,
    message: string,
    readonly retryable = true,
    readonly status?: number,
  ) {
    super(`${system}.${operation}: ${message}`);
  }
}
