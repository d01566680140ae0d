import type { Clients } from './clients/index.ts';
import { callOptions, defineStep } from './step-helpers.ts';
import type { StepImplementation } from '../runtime/step-types.ts';

/**
 * Steps of a billing run: select the billable accounts, then per account rate
 * usage, invoice and charge, and finally reconcile the run.
 */

export interface BillableAccount {
  accountId: string;
  customerId: string;
}
export interface SelectAccountsInput {
  period: string;
  accountIds?: string[];
}
export interface SelectAccountsResult {
  accounts: BillableAccount[];
}
export interface RateUsageInput {
  accountId: string;
  period: string;
}
export interface RatedUsage {
  accountId: string;
  amountCents: number;
}
export interface CreateInvoiceInput {
  accountId: string;
  period: string;
  amountCents: number;
}
export interface InvoiceRef {
  invoiceId: string;
}
export interface ChargeInput {
  accountId: string;
  invoiceId: string;
  amountCents: number;
  currency: string;
}
export interface ChargeResult {
  paymentId: string;
  status: 'succeeded' | 'declined';
}
export interface MarkPaidInput {
  invoiceId: string;
  paymentId: string;
}

/**
 * How one account ended in a billing run.
 * - `paid`: charged and the invoice marked paid.
 * - `nothing_due`: rated at zero; no invoice.
 * - `payment_declined` / `payment_failed`: invoice left open for dunning.
 * - `charged_unrecorded`: money taken but the invoice not yet marked paid (reconciliation repairs it).
 * - `rating_failed` / `invoice_failed`: nothing billed.
 * - `not_processed`: the run was cancelled before this account.
 */
export type AccountOutcomeStatus =
  | 'paid'
  | 'nothing_due'
  | 'payment_declined'
  | 'payment_failed'
  | 'charged_unrecorded'
  | 'rating_failed'
  | 'invoice_failed'
  | 'not_processed';

/** One account's outcome, as recorded by the billing-run machine. */
export interface AccountOutcome {
  accountId: string;
  customerId: string;
  status: AccountOutcomeStatus;
  amountCents?: number;
  invoiceId?: string;
  paymentId?: string;
  error?: { message: string; name?: string };
}

export interface ReconcileInput {
  period: string;
  outcomes: AccountOutcome[];
}
/** Totals of a run; `repaired` lists invoices marked paid during reconciliation. */
export interface Reconciliation {
  period: string;
  accounts: number;
  invoicedCents: number;
  collectedCents: number;
  outstandingCents: number;
  byStatus: Partial<Record<AccountOutcomeStatus, number>>;
  repaired: string[];
}

/**
 * Creates the billing-run steps, named as the machine references them.
 *
 * @remarks A declined charge is a result (`status: 'declined'`), not an
 * error, so the runtime does not retry it; a provider error with
 * `retryable: false` fails the charge at once.
 *
 * @example
 * ```ts
 * const { accounts } = await createBillingSteps(clients).selectBillingAccounts.run({ period: '2025-09' }, ctx);
 * ```
 */
export function createBillingSteps(clients: Clients) {
  const { billing, payments } = clients;
  return {
    selectBillingAccounts: defineStep<SelectAccountsInput, SelectAccountsResult>(async ({ period, accountIds }, ctx) => {
      const all = await billing.listBillableAccounts({ period }, { signal: ctx.signal });
      const wanted = accountIds ? new Set(accountIds) : undefined;
      // Sorted so the run's order (and the generations of its invocations) is reproducible.
      const accounts = all
        .filter((a) => !wanted || wanted.has(a.accountId))
        .map((a) => ({ accountId: a.accountId, customerId: a.customerId }))
        .sort((a, b) => a.accountId.localeCompare(b.accountId));
      return { accounts };
    }),

    rateUsage: defineStep<RateUsageInput, RatedUsage>(async (input, ctx) => {
      const rated = await billing.rateUsage(input, callOptions(ctx));
      return { accountId: input.accountId, amountCents: rated.amountCents };
    }),

    createInvoice: defineStep<CreateInvoiceInput, InvoiceRef>(async (input, ctx) => {
      const invoice = await billing.createInvoice(input, callOptions(ctx));
      return { invoiceId: invoice.invoiceId };
    }),

    chargePayment: defineStep<ChargeInput, ChargeResult>(async ({ accountId, amountCents, currency }, ctx) => {
      const charge = await payments.charge({ accountId, amountCents, currency }, callOptions(ctx));
      return { paymentId: charge.paymentId, status: charge.status };
    }),

    markInvoicePaid: defineStep<MarkPaidInput, MarkPaidInput>(async ({ invoiceId, paymentId }, ctx) => {
      await billing.markInvoicePaid(invoiceId, paymentId, callOptions(ctx));
      return { invoiceId, paymentId };
    }),

    reconcileBillingRun: defineStep<ReconcileInput, Reconciliation>(async ({ period, outcomes }, ctx) => {
      const repaired: string[] = [];
      for (const o of outcomes) {
        if (o.status !== 'charged_unrecorded' || !o.invoiceId || !o.paymentId) continue;
        // One key per invoice: a retried reconciliation re-marks nothing twice.
        await billing.markInvoicePaid(o.invoiceId, o.paymentId, callOptions(ctx, o.invoiceId));
        repaired.push(o.invoiceId);
      }
      const byStatus: Reconciliation['byStatus'] = {};
      let invoicedCents = 0;
      let collectedCents = 0;
      for (const o of outcomes) {
        byStatus[o.status] = (byStatus[o.status] ?? 0) + 1;
        if (o.invoiceId) invoicedCents += o.amountCents ?? 0;
        if (o.paymentId && (o.status === 'paid' || o.status === 'charged_unrecorded')) collectedCents += o.amountCents ?? 0;
      }
      return {
        period,
        accounts: outcomes.length,
        invoicedCents,
        collectedCents,
        outstandingCents: invoicedCents - collectedCents,
        byStatus,
        repaired,
      };
    }),
  } satisfies Record<string, StepImplementation>;
}

/** The names of the billing-run steps. */
export type BillingStepName = keyof ReturnType<typeof createBillingSteps>;
