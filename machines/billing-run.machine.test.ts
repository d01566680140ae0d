import { describe, expect, it } from 'vitest';
import type { AnyEventObject } from 'xstate';
import { BillingRunInputSchema, billingRunMachine as machine, type BillingRunInput } from './billing-run.machine.ts';
import { Drive, done, fail, replayShortestPaths, spawns } from './machine-testing.ts';

const input: BillingRunInput = BillingRunInputSchema.parse({ period: '2025-09' });
const accounts = [
  { accountId: 'acc_a', customerId: 'cus_a' },
  { accountId: 'acc_b', customerId: 'cus_b' },
];
const rated = (amountCents: number) => done('rateUsage', { accountId: 'x', amountCents });
const charged = (status: 'succeeded' | 'declined', paymentId = 'pay_1') => done('chargePayment', { paymentId, status });
const reconciliation = {
  period: '2025-09',
  accounts: 2,
  invoicedCents: 0,
  collectedCents: 0,
  outstandingCents: 0,
  byStatus: {},
  repaired: [],
};

/** Drives one account through every phase up to a successful payment. */
function payAccount(d: Drive, invoiceId: string): Drive {
  return d
    .send(rated(1500))
    .send(done('createInvoice', { invoiceId }))
    .send(charged('succeeded', `pay_${invoiceId}`))
    .send(done('markInvoicePaid'));
}

describe('billing-run', () => {
  it('validates its input and defaults the currency', () => {
    expect(input.currency).toBe('EUR');
    expect(BillingRunInputSchema.safeParse({ period: '2025-13' }).success).toBe(false);
  });

  it('bills each account in turn with the same invoke ids, then reconciles', () => {
    const d = new Drive(machine, { ...input, accountIds: ['acc_a', 'acc_b'] });
    expect(d.started[0]).toEqual({
      id: 'selectAccounts',
      src: 'selectBillingAccounts',
      input: { period: '2025-09', accountIds: ['acc_a', 'acc_b'] },
    });
    d.send(done('selectAccounts', { accounts }));
    payAccount(d, 'inv_a');
    expect(d.started.slice(1).map((s) => s.id)).toEqual(['rateUsage', 'createInvoice', 'chargePayment', 'markInvoicePaid', 'rateUsage']);
    expect(d.started.at(-1)!.input).toEqual({ accountId: 'acc_b', period: '2025-09' });
    expect(d.started[3]!.input).toEqual({ accountId: 'acc_a', invoiceId: 'inv_a', amountCents: 1500, currency: 'EUR' });
    payAccount(d, 'inv_b');
    expect(d.snapshot.value).toBe('reconciling');
    expect(d.started.at(-1)!.input).toMatchObject({
      outcomes: [
        { accountId: 'acc_a', status: 'paid' },
        { accountId: 'acc_b', status: 'paid' },
      ],
    });
    d.send(done('reconcile', reconciliation));
    expect(d.snapshot.output).toMatchObject({
      outcome: 'completed',
      accounts: [
        { accountId: 'acc_a', customerId: 'cus_a', status: 'paid', amountCents: 1500, invoiceId: 'inv_a', paymentId: 'pay_inv_a' },
        { accountId: 'acc_b', status: 'paid' },
      ],
      reconciliation,
    });
  });

  it('leaves a declined invoice open and goes on with the next account', () => {
    const d = new Drive(machine, input).send(done('selectAccounts', { accounts }));
    d.send(rated(900))
      .send(done('createInvoice', { invoiceId: 'inv_a' }))
      .send(charged('declined', 'pay_declined'));
    expect(d.snapshot.value).toEqual({ processing: 'rating' });
    expect(d.started.map((s) => s.src)).not.toContain('voidInvoice');
    expect(d.snapshot.context.outcomes[0]).toEqual({
      ...accounts[0],
      status: 'payment_declined',
      amountCents: 900,
      invoiceId: 'inv_a',
      paymentId: 'pay_declined',
    });
  });

  it('stops and restarts the same invoke id in one transition when an account has nothing due', () => {
    const d = new Drive(machine, input).send(done('selectAccounts', { accounts })).send(rated(0));
    const childActions = (d.actions as { type: string; params: { id: string } }[])
      .filter((a) => a.type === 'xstate.stopChild' || a.type === 'xstate.spawnChild')
      .map((a) => `${a.type}:${a.params.id}`);
    expect(childActions).toEqual(['xstate.stopChild:rateUsage', 'xstate.spawnChild:rateUsage']);
    expect(d.snapshot.context.outcomes).toEqual([{ ...accounts[0], status: 'nothing_due', amountCents: 0 }]);
  });

  it('records a failure at every per-account phase as that account outcome, without touching the others', () => {
    const phases: [string, AnyEventObject[], string][] = [
      ['rating_failed', [fail('rateUsage')], 'rateUsage'],
      ['invoice_failed', [rated(700), fail('createInvoice')], 'createInvoice'],
      ['payment_failed', [rated(700), done('createInvoice', { invoiceId: 'inv_a' }), fail('chargePayment')], 'chargePayment'],
      [
        'charged_unrecorded',
        [rated(700), done('createInvoice', { invoiceId: 'inv_a' }), charged('succeeded'), fail('markInvoicePaid')],
        'markInvoicePaid',
      ],
    ];
    for (const [status, events, failing] of phases) {
      const d = new Drive(machine, input).send(done('selectAccounts', { accounts }));
      for (const e of events) d.send(e);
      expect(d.snapshot.context.outcomes[0], failing).toMatchObject({ accountId: 'acc_a', status, error: { message: 'boom' } });
      payAccount(d, 'inv_b');
      expect(d.snapshot.context.outcomes[1]).toMatchObject({ accountId: 'acc_b', status: 'paid' });
    }
  });

  it('marks a charged but unrecorded invoice paid once reconciliation repaired it', () => {
    const d = new Drive(machine, input).send(done('selectAccounts', { accounts: [accounts[0]] }));
    d.send(rated(700))
      .send(done('createInvoice', { invoiceId: 'inv_a' }))
      .send(charged('succeeded'))
      .send(fail('markInvoicePaid'));
    d.send(done('reconcile', { ...reconciliation, repaired: ['inv_a'] }));
    expect(d.snapshot.output).toMatchObject({ outcome: 'completed', accounts: [{ status: 'paid', error: { message: 'boom' } }] });
  });

  it('on cancel finishes the account in flight, skips the rest, reconciles and ends cancelled', () => {
    const d = new Drive(machine, input).send(done('selectAccounts', { accounts })).send(rated(500));
    d.send({ type: 'workflow.cancel', reason: 'wrong tariff table' });
    d.send(done('createInvoice', { invoiceId: 'inv_a' }))
      .send(charged('succeeded'))
      .send(done('markInvoicePaid'));
    expect(d.snapshot.value).toBe('reconciling');
    expect(d.snapshot.context.outcomes.map((o: { status: string }) => o.status)).toEqual(['paid', 'not_processed']);
    d.send(done('reconcile', reconciliation));
    expect(d.snapshot.output).toMatchObject({ outcome: 'cancelled' });
  });

  it('ends failed when no accounts can be selected, and reconcile_failed when reconciliation fails', () => {
    expect(new Drive(machine, input).send(fail('selectAccounts')).snapshot.output).toMatchObject({ outcome: 'failed', accounts: [] });
    const d = new Drive(machine, input).send(done('selectAccounts', { accounts: [] }));
    expect(spawns(d.actions).map((s) => s.id)).toEqual(['reconcile']);
    d.send(fail('reconcile', 'ledger locked'));
    expect(d.snapshot.output).toMatchObject({
      outcome: 'reconcile_failed',
      failure: { step: 'reconcile', error: { message: 'ledger locked' } },
    });
  });

  it('replays its shortest paths through transition() and restores each reached state from JSON', () => {
    const events = (s: { children: Record<string, unknown> }): AnyEventObject[] =>
      [
        done('selectAccounts', { accounts }),
        fail('selectAccounts'),
        rated(1200),
        rated(0),
        fail('rateUsage'),
        done('createInvoice', { invoiceId: 'inv_1' }),
        fail('createInvoice'),
        charged('succeeded'),
        charged('declined'),
        fail('chargePayment'),
        done('markInvoicePaid'),
        fail('markInvoicePaid'),
        done('reconcile', reconciliation),
        fail('reconcile'),
        { type: 'workflow.cancel' },
      ].filter((e) => e.type === 'workflow.cancel' || Object.keys(s.children).some((id) => e.type.endsWith(`.${id}`)));
    expect(replayShortestPaths(machine, input, events)).toBeGreaterThan(50);
  });
});
