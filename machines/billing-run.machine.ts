import { assign, not, setup } from 'xstate';
import { z } from 'zod';
import type {
  AccountOutcome,
  AccountOutcomeStatus,
  BillableAccount,
  ChargeInput,
  ChargeResult,
  CreateInvoiceInput,
  InvoiceRef,
  MarkPaidInput,
  RateUsageInput,
  RatedUsage,
  ReconcileInput,
  Reconciliation,
  SelectAccountsInput,
  SelectAccountsResult,
} from '../actors/billing-steps.ts';
import { toStepError } from '../sagas/compensation.ts';
import { OPERATOR_ROLES, type SagaFailure } from '../sagas/saga-types.ts';
import { step } from '../runtime/step.ts';

/** Input of `billing-run`. */
export const BillingRunInputSchema = z.object({
  period: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'YYYY-MM'),
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/)
    .default('EUR'),
  /** Restrict the run to these accounts (a re-run for the ones that failed). */
  accountIds: z.array(z.string().min(1)).min(1).optional(),
});

export type BillingRunInput = z.input<typeof BillingRunInputSchema>;

/** Context of `billing-run` (persisted data). */
export interface BillingRunContext {
  input: BillingRunInput;
  accounts: BillableAccount[];
  /** Index in `accounts` of the account being billed. */
  cursor: number;
  /** What the current account has produced so far. */
  current: { amountCents?: number; invoiceId?: string; paymentId?: string };
  outcomes: AccountOutcome[];
  reconciliation: Reconciliation | null;
  failure: SagaFailure | null;
  cancellation: { reason: string | null } | null;
}

/** Output of `billing-run`: always the per-account outcomes. */
export interface BillingRunOutput {
  outcome: 'completed' | 'cancelled' | 'failed' | 'reconcile_failed';
  period: string;
  accounts: AccountOutcome[];
  reconciliation: Reconciliation | null;
  failure: SagaFailure | null;
}

type Ev = { output?: any; error?: unknown; reason?: string };
const ev = (e: unknown) => e as Ev;
const account = (c: BillingRunContext) => c.accounts[c.cursor]!;
const finish = (status: AccountOutcomeStatus) => ({ type: 'finishAccount' as const, params: { status } });
const perAccount = (step: string) => ({ tags: ['running'], meta: { step, phase: 'action', forEach: 'accounts' } });
const output =
  (outcome: BillingRunOutput['outcome']) =>
  ({ context }: { context: BillingRunContext }): BillingRunOutput => ({
    outcome,
    period: context.input.period,
    accounts: context.outcomes,
    reconciliation: context.reconciliation,
    failure: context.failure,
  });

/**
 * A monthly billing run: select the accounts, then for each account in turn
 * rate usage → create invoice → charge → mark paid, then reconcile.
 *
 * @remarks Hand-written: accounts are independent, so one account's failure
 * is recorded as its outcome and the run goes on; nothing is rolled back
 * across accounts. A declined or failed charge leaves the invoice **open**:
 * the customer still owes the amount, dunning collects it later, and voiding
 * would erase a valid receivable (a void is for a wrong invoice, not an
 * unpaid one). A charge that succeeded but whose invoice could not be marked
 * paid is `charged_unrecorded`, and reconciliation marks it paid.
 *
 * Accounts are processed sequentially in `context.accounts` order with stable
 * invoke ids per phase (`rateUsage`, `createInvoice`, `chargePayment`,
 * `markInvoicePaid`); every account re-invokes the same ids, so the runtime's
 * generation counter tells the invocations apart (one transition may stop
 * and start the same id: process actions in order). `workflow.cancel`
 * lets the account in flight finish, marks the rest `not_processed`, still
 * reconciles and ends `cancelled`.
 */
export const billingRunMachine = setup({
  types: {
    context: {} as BillingRunContext,
    input: {} as BillingRunInput,
    events: {} as { type: 'workflow.cancel'; reason?: string },
    output: {} as BillingRunOutput,
  },
  actors: {
    selectBillingAccounts: step<SelectAccountsInput, SelectAccountsResult>({ maxAttempts: 5 }),
    rateUsage: step<RateUsageInput, RatedUsage>({ maxAttempts: 5 }),
    createInvoice: step<CreateInvoiceInput, InvoiceRef>({ maxAttempts: 5 }),
    // The provider deduplicates by idempotency key, so retrying a charge never charges twice.
    chargePayment: step<ChargeInput, ChargeResult>({ maxAttempts: 4, timeoutMs: 60_000 }),
    markInvoicePaid: step<MarkPaidInput, MarkPaidInput>({ maxAttempts: 8 }),
    reconcileBillingRun: step<ReconcileInput, Reconciliation>({ maxAttempts: 5, timeoutMs: 120_000 }),
  },
  guards: {
    cancelRequested: ({ context }) => context.cancellation !== null,
    hasMoreAccounts: ({ context }) => context.cursor < context.accounts.length,
    nothingDue: ({ event }) => ev(event).output?.amountCents === 0,
    declined: ({ event }) => ev(event).output?.status === 'declined',
  },
  actions: {
    recordCancel: assign({ cancellation: ({ event }) => ({ reason: event.reason ?? null }) }),
    recordFailure: assign({ failure: ({ event }, p: { step: string }) => ({ step: p.step, error: toStepError(ev(event).error) }) }),
    setAccounts: assign({ accounts: ({ event }) => ev(event).output.accounts, cursor: 0 }),
    setCurrent: assign({ current: ({ context, event }) => ({ ...context.current, ...pick(ev(event).output) }) }),
    // Records the current account's outcome and moves the cursor on.
    finishAccount: assign(({ context, event }, p: { status: AccountOutcomeStatus }) => {
      const error = ev(event).error;
      const outcome: AccountOutcome = {
        ...account(context),
        status: p.status,
        ...context.current,
        ...(error !== undefined && { error: toStepError(error) }),
      };
      return { outcomes: [...context.outcomes, outcome], cursor: context.cursor + 1, current: {} };
    }),
    skipRemaining: assign(({ context }) => ({
      outcomes: [...context.outcomes, ...context.accounts.slice(context.cursor).map((a) => ({ ...a, status: 'not_processed' as const }))],
      cursor: context.accounts.length,
    })),
    setReconciliation: assign(({ context, event }) => {
      const reconciliation = ev(event).output as Reconciliation;
      const repaired = new Set(reconciliation.repaired);
      const outcomes = context.outcomes.map((o) => (o.invoiceId && repaired.has(o.invoiceId) ? { ...o, status: 'paid' as const } : o));
      return { reconciliation, outcomes };
    }),
  },
}).createMachine({
  id: 'billing-run',
  description: 'Rate, invoice and charge every billable account of a period, then reconcile',
  context: ({ input }) => ({
    input,
    accounts: [],
    cursor: 0,
    current: {},
    outcomes: [],
    reconciliation: null,
    failure: null,
    cancellation: null,
  }),
  initial: 'selecting',
  states: {
    selecting: {
      tags: ['running'],
      meta: { step: 'selectAccounts', phase: 'action', roles: { 'workflow.cancel': OPERATOR_ROLES } },
      on: { 'workflow.cancel': { guard: not('cancelRequested'), actions: 'recordCancel' } },
      invoke: {
        id: 'selectAccounts',
        src: 'selectBillingAccounts',
        input: ({ context }) => ({
          period: context.input.period,
          ...(context.input.accountIds && { accountIds: context.input.accountIds }),
        }),
        onDone: { target: 'processing', actions: 'setAccounts' },
        onError: { target: 'failed', actions: { type: 'recordFailure', params: { step: 'selectAccounts' } } },
      },
    },
    processing: {
      initial: 'next',
      meta: { roles: { 'workflow.cancel': OPERATOR_ROLES } },
      on: { 'workflow.cancel': { guard: not('cancelRequested'), actions: 'recordCancel' } },
      states: {
        next: {
          always: [
            { guard: 'cancelRequested', target: '#billing-run.reconciling', actions: 'skipRemaining' },
            { guard: 'hasMoreAccounts', target: 'rating' },
            { target: '#billing-run.reconciling' },
          ],
        },
        rating: {
          ...perAccount('rateUsage'),
          invoke: {
            id: 'rateUsage',
            src: 'rateUsage',
            input: ({ context }) => ({ accountId: account(context).accountId, period: context.input.period }),
            onDone: [
              { guard: 'nothingDue', target: 'next', actions: ['setCurrent', finish('nothing_due')] },
              { target: 'invoicing', actions: 'setCurrent' },
            ],
            onError: { target: 'next', actions: finish('rating_failed') },
          },
        },
        invoicing: {
          ...perAccount('createInvoice'),
          invoke: {
            id: 'createInvoice',
            src: 'createInvoice',
            input: ({ context }) => ({
              accountId: account(context).accountId,
              period: context.input.period,
              amountCents: context.current.amountCents!,
            }),
            onDone: { target: 'charging', actions: 'setCurrent' },
            onError: { target: 'next', actions: finish('invoice_failed') },
          },
        },
        charging: {
          ...perAccount('chargePayment'),
          invoke: {
            id: 'chargePayment',
            src: 'chargePayment',
            input: ({ context }) => ({
              accountId: account(context).accountId,
              invoiceId: context.current.invoiceId!,
              amountCents: context.current.amountCents!,
              currency: context.input.currency ?? 'EUR',
            }),
            onDone: [
              { guard: 'declined', target: 'next', actions: ['setCurrent', finish('payment_declined')] },
              { target: 'recording', actions: 'setCurrent' },
            ],
            onError: { target: 'next', actions: finish('payment_failed') },
          },
        },
        recording: {
          ...perAccount('markInvoicePaid'),
          invoke: {
            id: 'markInvoicePaid',
            src: 'markInvoicePaid',
            input: ({ context }) => ({ invoiceId: context.current.invoiceId!, paymentId: context.current.paymentId! }),
            onDone: { target: 'next', actions: finish('paid') },
            onError: { target: 'next', actions: finish('charged_unrecorded') },
          },
        },
      },
    },
    reconciling: {
      tags: ['running'],
      meta: { step: 'reconcile', phase: 'action' },
      invoke: {
        id: 'reconcile',
        src: 'reconcileBillingRun',
        input: ({ context }) => ({ period: context.input.period, outcomes: context.outcomes }),
        onDone: [
          { guard: 'cancelRequested', target: 'cancelled', actions: 'setReconciliation' },
          { target: 'completed', actions: 'setReconciliation' },
        ],
        onError: { target: 'reconcile_failed', actions: { type: 'recordFailure', params: { step: 'reconcile' } } },
      },
    },
    completed: { type: 'final', tags: ['completed'], output: output('completed') },
    cancelled: { type: 'final', tags: ['cancelled'], output: output('cancelled') },
    failed: { type: 'final', tags: ['failed'], output: output('failed') },
    reconcile_failed: { type: 'final', tags: ['reconcile_failed'], output: output('reconcile_failed') },
  },
  output: ({ event }) => (event as unknown as { output: BillingRunOutput }).output,
});

// Keeps only the fields an account outcome records, whatever else a step returns.
function pick(output: Record<string, unknown> | undefined): BillingRunContext['current'] {
  const { amountCents, invoiceId, paymentId } = (output ?? {}) as BillingRunContext['current'];
  return {
    ...(amountCents !== undefined && { amountCents }),
    ...(invoiceId !== undefined && { invoiceId }),
    ...(paymentId !== undefined && { paymentId }),
  };
}
