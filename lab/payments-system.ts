import type { CallOptions, PaymentsClient } from '../actors/clients/index.ts';
import type { CallGate } from './call-gate.ts';
import { LabError } from './errors.ts';
import type { IdSequence } from './ids.ts';
import { LabState, type Table, type Tables } from './lab-state.ts';
import type { LiveRecord } from './live-record.ts';

/** A customer at the payment provider. */
export interface PaymentCustomer {
  paymentCustomerId: string;
  email: string;
  name: string;
}
/** A charge; `refundId` is set once refunded. */
export interface Charge {
  paymentId: string;
  accountId: string;
  amountCents: number;
  currency: string;
  status: 'succeeded' | 'declined';
  refundId?: string;
}

/** Payment records that are live: customers not deleted, succeeded charges not refunded. */
export interface PaymentRecords {
  customers: PaymentCustomer[];
  charges: Charge[];
}

/**
 * The payment provider: customers, charges, refunds.
 *
 * @remarks Like a payment API with an `Idempotency-Key` header, a repeated
 * key returns the first response, even when the repeated request differs (a
 * different amount, say): the lab's call gate records results by key and
 * never compares bodies. Stripe rejects such a mismatch instead; returning
 * the first result is the behaviour a workflow must already survive when its
 * input changed between attempts, and it never moves money twice.
 * A charge for an account in the declined set is recorded with status
 * `declined` (no exception: a decline is an answer, not a failure).
 */
export class PaymentsSystem {
  private readonly customers: Table<PaymentCustomer>;
  private readonly charges: Table<Charge>;
  // Configuration, not records: a new lab process starts from the configured set.
  private readonly declined: Set<string>;

  constructor(
    private readonly ids: IdSequence,
    private readonly initialDeclined: readonly string[] = [],
    tables: Tables = new LabState(),
  ) {
    this.customers = tables.table('payments.customer');
    this.charges = tables.table('payments.charge');
    this.declined = new Set(initialDeclined);
  }

  /** Makes every later charge for these accounts decline (replaces the set). */
  setDeclinedAccounts(accountIds: readonly string[]): void {
    this.declined.clear();
    for (const id of accountIds) this.declined.add(id);
  }

  /** Accounts whose charges decline. */
  declinedAccounts(): string[] {
    return [...this.declined].sort();
  }

  /** Creates a customer. */
  createCustomer(req: { email: string; name: string }): { paymentCustomerId: string } {
    if (!req.email?.includes('@')) throw LabError.invalid('payments', 'createCustomer', `"${req.email}" is not an email address`);
    const customer = { paymentCustomerId: this.ids.next('pcus'), email: req.email, name: req.name };
    this.customers.set(customer.paymentCustomerId, customer);
    return { paymentCustomerId: customer.paymentCustomerId };
  }

  /** Deletes a customer; one already gone is fine. */
  deleteCustomer(paymentCustomerId: string): void {
    this.customers.delete(paymentCustomerId);
  }

  /** Charges an account; declines for accounts in the declined set. */
  charge(req: { accountId: string; amountCents: number; currency: string }): { paymentId: string; status: 'succeeded' | 'declined' } {
    if (!Number.isInteger(req.amountCents) || req.amountCents <= 0) {
      throw LabError.invalid('payments', 'charge', `amountCents must be a positive integer, not ${req.amountCents}`);
    }
    if (!/^[A-Za-z]{3}$/.test(req.currency ?? ''))
      throw LabError.invalid('payments', 'charge', `currency "${req.currency}" is not an ISO 4217 code`);
    const charge: Charge = {
      paymentId: this.ids.next('ch'),
      accountId: req.accountId,
      amountCents: req.amountCents,
      currency: req.currency.toLowerCase(),
      status: this.declined.has(req.accountId) ? 'declined' : 'succeeded',
    };
    this.charges.set(charge.paymentId, charge);
    return { paymentId: charge.paymentId, status: charge.status };
  }

  /** Refunds a succeeded charge in full; refunding it again is fine. */
  refund(paymentId: string): void {
    const charge = this.charges.get(paymentId);
    if (!charge) throw LabError.notFound('payments', 'refund', 'charge', paymentId);
    if (charge.status === 'declined') {
      throw LabError.conflict('payments', 'refund', `charge ${paymentId} was declined; there is nothing to refund`);
    }
    charge.refundId ??= this.ids.next('re');
  }

  /** Every charge, declined and refunded ones included. */
  allCharges(): Charge[] {
    return [...this.charges.values()].map((c) => ({ ...c }));
  }

  /** Customers, and succeeded charges not refunded. */
  records(): PaymentRecords {
    return {
      customers: [...this.customers.values()].map((c) => ({ ...c })),
      charges: this.allCharges().filter((c) => c.status === 'succeeded' && c.refundId === undefined),
    };
  }

  /** Customers and unrefunded charges as live records. */
  liveRecords(): LiveRecord[] {
    const { customers, charges } = this.records();
    return [
      ...customers.map((c) => ({ system: 'payments' as const, kind: 'customer', id: c.paymentCustomerId })),
      ...charges.map((c) => ({ system: 'payments' as const, kind: 'charge', id: c.paymentId })),
    ];
  }

  /** Forgets every record; the declined set goes back to the configured one. */
  reset(): void {
    this.customers.clear();
    this.charges.clear();
    this.setDeclinedAccounts(this.initialDeclined);
  }
}

/** The {@link PaymentsClient} of a {@link PaymentsSystem}, through the lab's call gate. */
export function createPaymentsClient(system: PaymentsSystem, gate: CallGate): PaymentsClient {
  const run = <T>(operation: keyof PaymentsClient, o: CallOptions, apply: () => T) => gate.mutate('payments', operation, o, apply);
  return {
    createCustomer: (req, o) => run('createCustomer', o, () => system.createCustomer(req)),
    deleteCustomer: (id, o) => run('deleteCustomer', o, () => system.deleteCustomer(id)),
    charge: (req, o) => run('charge', o, () => system.charge(req)),
    refund: (id, o) => run('refund', o, () => system.refund(id)),
  };
}
