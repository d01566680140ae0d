import type { BillingClient, CallOptions } from '../actors/clients/index.ts';
import type { CallGate } from './call-gate.ts';
import { LabError } from './errors.ts';
import type { IdSequence } from './ids.ts';
import { LabState, type Table, type Tables } from './lab-state.ts';
import type { LiveRecord } from './live-record.ts';

/** A billing account. */
export interface BillingAccount {
  accountId: string;
  customerId: string;
  ownerName: string;
  status: 'open' | 'closed';
}
/** A service billed to a customer. */
export interface BillingService {
  serviceId: string;
  customerId: string;
  subscriberId: string;
  plan: string;
  status: 'active' | 'suspended';
}
/** An invoice; `paymentId` is set once paid. */
export interface Invoice {
  invoiceId: string;
  accountId: string;
  period: string;
  amountCents: number;
  status: 'open' | 'paid' | 'void';
  paymentId?: string;
}

/** Pricing of the lab's billing. */
export interface BillingOptions {
  /** Monthly price per plan in cents; a plan not listed costs `defaultPlanPriceCents`. */
  planPrices?: Record<string, number>;
  defaultPlanPriceCents?: number;
  /** Fixed monthly fee of every account (default 1000). */
  baseFeeCents?: number;
  /** Rated amount per account id, overriding the computed one. */
  usage?: Record<string, number>;
}

/** Plan prices a lab has unless told otherwise. */
export const DEFAULT_PLAN_PRICES: Readonly<Record<string, number>> = { basic: 2900, standard: 4900, premium: 9900 };

/** Billing records the lab holds that are live: open accounts, services, invoices not void. */
export interface BillingRecords {
  accounts: BillingAccount[];
  services: BillingService[];
  invoices: Invoice[];
}

const PERIOD = /^\d{4}-(0[1-9]|1[0-2])$/;

/**
 * Billing: accounts, services on them, usage rating and invoices.
 *
 * @remarks Rating is deterministic so tests can assert amounts: the
 * configured `usage` for the account, else the base fee plus the prices of
 * the customer's active services. Services hang off the customer, so one can
 * be added before the account exists. A paid invoice cannot be voided.
 */
export class BillingSystem {
  private readonly accounts: Table<BillingAccount>;
  private readonly services: Table<BillingService>;
  private readonly invoices: Table<Invoice>;

  constructor(
    private readonly ids: IdSequence,
    private readonly options: BillingOptions = {},
    tables: Tables = new LabState(),
  ) {
    this.accounts = tables.table('billing.account');
    this.services = tables.table('billing.service');
    this.invoices = tables.table('billing.invoice');
  }

  /** Opens a billing account for a customer. */
  createAccount(req: { customerId: string; ownerName: string }): { accountId: string } {
    if (!req.customerId) throw LabError.invalid('billing', 'createAccount', 'customerId must not be empty');
    const account: BillingAccount = {
      accountId: this.ids.next('acct'),
      customerId: req.customerId,
      ownerName: req.ownerName,
      status: 'open',
    };
    this.accounts.set(account.accountId, account);
    return { accountId: account.accountId };
  }

  /** Closes an account; unknown or closed already is fine. */
  closeAccount(accountId: string): void {
    const account = this.accounts.get(accountId);
    if (account) account.status = 'closed';
  }

  /** Adds an active service for a customer's subscriber. */
  addService(req: { customerId: string; subscriberId: string; plan: string }): { serviceId: string } {
    if (!req.customerId || !req.plan) throw LabError.invalid('billing', 'addService', 'customerId and plan must not be empty');
    const service: BillingService = {
      serviceId: this.ids.next('svc'),
      customerId: req.customerId,
      subscriberId: req.subscriberId,
      plan: req.plan,
      status: 'active',
    };
    this.services.set(service.serviceId, service);
    return { serviceId: service.serviceId };
  }

  /** Removes a service; one already gone is fine. */
  removeService(serviceId: string): void {
    this.services.delete(serviceId);
  }

  /** Activates or suspends a service. */
  setServiceStatus(serviceId: string, status: 'active' | 'suspended'): void {
    const service = this.services.get(serviceId);
    if (!service) throw LabError.notFound('billing', 'setServiceStatus', 'service', serviceId);
    if (status !== 'active' && status !== 'suspended') throw LabError.invalid('billing', 'setServiceStatus', `unknown status "${status}"`);
    service.status = status;
  }

  /** Open accounts, ordered by id. */
  listBillableAccounts(req: { period: string }): { accountId: string; customerId: string }[] {
    this.checkPeriod('listBillableAccounts', req.period);
    return [...this.accounts.values()].filter((a) => a.status === 'open').map(({ accountId, customerId }) => ({ accountId, customerId }));
  }

  /** The account's amount for the period (see the class remarks). */
  rateUsage(req: { accountId: string; period: string }): { amountCents: number } {
    this.checkPeriod('rateUsage', req.period);
    const account = this.account(req.accountId, 'rateUsage');
    const configured = this.options.usage?.[account.accountId];
    if (configured !== undefined) return { amountCents: configured };
    const prices = { ...DEFAULT_PLAN_PRICES, ...this.options.planPrices };
    let amountCents = this.options.baseFeeCents ?? 1000;
    for (const s of this.services.values()) {
      if (s.customerId === account.customerId && s.status === 'active')
        amountCents += prices[s.plan] ?? this.options.defaultPlanPriceCents ?? 5000;
    }
    return { amountCents };
  }

  /** Opens an invoice on an existing account. */
  createInvoice(req: { accountId: string; period: string; amountCents: number }): { invoiceId: string } {
    this.checkPeriod('createInvoice', req.period);
    this.account(req.accountId, 'createInvoice');
    if (!Number.isInteger(req.amountCents) || req.amountCents < 0) {
      throw LabError.invalid('billing', 'createInvoice', `amountCents must be a non-negative integer, not ${req.amountCents}`);
    }
    const invoice: Invoice = {
      invoiceId: this.ids.next('inv'),
      accountId: req.accountId,
      period: req.period,
      amountCents: req.amountCents,
      status: 'open',
    };
    this.invoices.set(invoice.invoiceId, invoice);
    return { invoiceId: invoice.invoiceId };
  }

  /** Voids an open invoice; unknown or void already is fine. */
  voidInvoice(invoiceId: string): void {
    const invoice = this.invoices.get(invoiceId);
    if (!invoice) return;
    if (invoice.status === 'paid') {
      throw LabError.conflict('billing', 'voidInvoice', `invoice ${invoiceId} is paid by ${invoice.paymentId}; refund the payment instead`);
    }
    invoice.status = 'void';
  }

  /** Marks an invoice paid; again with the same payment is fine. */
  markInvoicePaid(invoiceId: string, paymentId: string): void {
    const invoice = this.invoices.get(invoiceId);
    if (!invoice) throw LabError.notFound('billing', 'markInvoicePaid', 'invoice', invoiceId);
    if (invoice.status === 'void') throw LabError.conflict('billing', 'markInvoicePaid', `invoice ${invoiceId} is void`);
    if (invoice.status === 'paid' && invoice.paymentId !== paymentId) {
      throw LabError.conflict('billing', 'markInvoicePaid', `invoice ${invoiceId} is already paid by ${invoice.paymentId}`);
    }
    invoice.status = 'paid';
    invoice.paymentId = paymentId;
  }

  /** Every invoice, void ones included. */
  allInvoices(): Invoice[] {
    return [...this.invoices.values()].map((i) => ({ ...i }));
  }

  /** Open accounts, services, and invoices that are not void. */
  records(): BillingRecords {
    return {
      accounts: [...this.accounts.values()].filter((a) => a.status === 'open').map((a) => ({ ...a })),
      services: [...this.services.values()].map((s) => ({ ...s })),
      invoices: this.allInvoices().filter((i) => i.status !== 'void'),
    };
  }

  /** Open accounts, services and invoices not void as live records. */
  liveRecords(): LiveRecord[] {
    const { accounts, services, invoices } = this.records();
    return [
      ...accounts.map((a) => ({ system: 'billing' as const, kind: 'account', id: a.accountId })),
      ...services.map((s) => ({ system: 'billing' as const, kind: 'service', id: s.serviceId })),
      ...invoices.map((i) => ({ system: 'billing' as const, kind: 'invoice', id: i.invoiceId })),
    ];
  }

  /** Forgets every record. */
  reset(): void {
    this.accounts.clear();
    this.services.clear();
    this.invoices.clear();
  }

  private account(accountId: string, operation: string): BillingAccount {
    const account = this.accounts.get(accountId);
    if (!account) throw LabError.notFound('billing', operation, 'billing account', accountId);
    return account;
  }

  private checkPeriod(operation: string, period: string): void {
    if (!PERIOD.test(period ?? '')) throw LabError.invalid('billing', operation, `period "${period}" is not YYYY-MM`);
  }
}

/** The {@link BillingClient} of a {@link BillingSystem}, through the lab's call gate. */
export function createBillingClient(system: BillingSystem, gate: CallGate): BillingClient {
  const run = <T>(operation: keyof BillingClient, o: CallOptions, apply: () => T) => gate.mutate('billing', operation, o, apply);
  return {
    createAccount: (req, o) => run('createAccount', o, () => system.createAccount(req)),
    closeAccount: (id, o) => run('closeAccount', o, () => system.closeAccount(id)),
    addService: (req, o) => run('addService', o, () => system.addService(req)),
    removeService: (id, o) => run('removeService', o, () => system.removeService(id)),
    setServiceStatus: (id, status, o) => run('setServiceStatus', o, () => system.setServiceStatus(id, status)),
    listBillableAccounts: (req, o) => gate.read('billing', 'listBillableAccounts', o?.signal, () => system.listBillableAccounts(req)),
    rateUsage: (req, o) => run('rateUsage', o, () => system.rateUsage(req)),
    createInvoice: (req, o) => run('createInvoice', o, () => system.createInvoice(req)),
    voidInvoice: (id, o) => run('voidInvoice', o, () => system.voidInvoice(id)),
    markInvoicePaid: (id, paymentId, o) => run('markInvoicePaid', o, () => system.markInvoicePaid(id, paymentId)),
  };
}
