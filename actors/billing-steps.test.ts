import { describe, expect, it } from 'vitest';
import { createBillingSteps, type AccountOutcome } from './billing-steps.ts';
import { createFakeClients, fakeContext } from './fake-clients.ts';

const ctx = fakeContext({ idempotencyKey: 'inst_4:chargePayment:3' });
const opts = { idempotencyKey: 'inst_4:chargePayment:3', signal: ctx.signal };

describe('billing steps', () => {
  it('select the billable accounts of the period, filtered and in a stable order', async () => {
    const fake = createFakeClients();
    const s = createBillingSteps(fake.clients);
    expect(await s.selectBillingAccounts.run({ period: '2025-09' }, ctx)).toEqual({
      accounts: [
        { accountId: 'acc_a', customerId: 'cus_a' },
        { accountId: 'acc_b', customerId: 'cus_b' },
      ],
    });
    expect(await s.selectBillingAccounts.run({ period: '2025-09', accountIds: ['acc_b'] }, ctx)).toEqual({
      accounts: [{ accountId: 'acc_b', customerId: 'cus_b' }],
    });
    expect(fake.callsOf('billing.listBillableAccounts')[0]).toEqual([{ period: '2025-09' }, { signal: ctx.signal }]);
  });

  it('rate, invoice, charge and mark paid with the idempotency key', async () => {
    const fake = createFakeClients();
    const s = createBillingSteps(fake.clients);
    expect(await s.rateUsage.run({ accountId: 'acc_a', period: '2025-09' }, ctx)).toEqual({ accountId: 'acc_a', amountCents: 4200 });
    expect(await s.createInvoice.run({ accountId: 'acc_a', period: '2025-09', amountCents: 4200 }, ctx)).toEqual({ invoiceId: 'inv_1' });
    expect(await s.chargePayment.run({ accountId: 'acc_a', invoiceId: 'inv_1', amountCents: 4200, currency: 'EUR' }, ctx)).toEqual({
      paymentId: 'pay_1',
      status: 'succeeded',
    });
    expect(await s.markInvoicePaid.run({ invoiceId: 'inv_1', paymentId: 'pay_1' }, ctx)).toEqual({
      invoiceId: 'inv_1',
      paymentId: 'pay_1',
    });
    for (const call of fake.calls) expect(call.args.at(-1)).toEqual(opts);
    expect(fake.callsOf('payments.charge')[0]![0]).toEqual({ accountId: 'acc_a', amountCents: 4200, currency: 'EUR' });
  });

  it('return a declined charge as a result, not an error, so it is not retried', async () => {
    const fake = createFakeClients();
    fake.clients.payments.charge = async () => ({ paymentId: 'pay_x', status: 'declined' });
    const out = await createBillingSteps(fake.clients).chargePayment.run(
      { accountId: 'a', invoiceId: 'i', amountCents: 1, currency: 'EUR' },
      ctx,
    );
    expect(out).toEqual({ paymentId: 'pay_x', status: 'declined' });
  });

  it('reconcile marks charged but unrecorded invoices paid, one derived key each, and totals the run', async () => {
    const fake = createFakeClients();
    const outcomes: AccountOutcome[] = [
      { accountId: 'a', customerId: 'ca', status: 'paid', amountCents: 1000, invoiceId: 'inv_a', paymentId: 'pay_a' },
      { accountId: 'b', customerId: 'cb', status: 'charged_unrecorded', amountCents: 500, invoiceId: 'inv_b', paymentId: 'pay_b' },
      { accountId: 'c', customerId: 'cc', status: 'payment_declined', amountCents: 300, invoiceId: 'inv_c', paymentId: 'pay_c' },
      { accountId: 'd', customerId: 'cd', status: 'nothing_due', amountCents: 0 },
    ];
    const out = await createBillingSteps(fake.clients).reconcileBillingRun.run({ period: '2025-09', outcomes }, ctx);
    expect(out).toEqual({
      period: '2025-09',
      accounts: 4,
      invoicedCents: 1800,
      collectedCents: 1500,
      outstandingCents: 300,
      byStatus: { paid: 1, charged_unrecorded: 1, payment_declined: 1, nothing_due: 1 },
      repaired: ['inv_b'],
    });
    expect(fake.callsOf('billing.markInvoicePaid')).toEqual([
      ['inv_b', 'pay_b', { idempotencyKey: 'inst_4:chargePayment:3:inv_b', signal: ctx.signal }],
    ]);
  });
});
