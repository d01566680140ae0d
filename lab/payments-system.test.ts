import { describe, expect, it } from 'vitest';
import { createLab } from './lab.ts';

describe('payments', () => {
  it('returns the first result for a repeated key even when the request differs', async () => {
    const lab = createLab();
    const o = { idempotencyKey: 'charge-inv_000001' };
    const first = await lab.clients.payments.charge({ accountId: 'acct_1', amountCents: 4900, currency: 'EUR' }, o);
    const repeat = await lab.clients.payments.charge({ accountId: 'acct_1', amountCents: 9999, currency: 'USD' }, o);
    expect(repeat).toEqual(first);
    expect(lab.systems.payments.allCharges()).toEqual([
      { paymentId: first.paymentId, accountId: 'acct_1', amountCents: 4900, currency: 'eur', status: 'succeeded' },
    ]);
  });

  it('declines charges of configured accounts without throwing, and records the decline', async () => {
    const lab = createLab({ declinedAccounts: ['acct_bad'] });
    const declined = await lab.clients.payments.charge(
      { accountId: 'acct_bad', amountCents: 100, currency: 'EUR' },
      { idempotencyKey: 'a' },
    );
    const ok = await lab.clients.payments.charge({ accountId: 'acct_good', amountCents: 100, currency: 'EUR' }, { idempotencyKey: 'b' });
    expect(declined.status).toBe('declined');
    expect(ok.status).toBe('succeeded');
    // A declined charge moved no money: it is no live record.
    expect((await lab.records()).payments.charges.map((c) => c.paymentId)).toEqual([ok.paymentId]);
    await expect(lab.clients.payments.refund(declined.paymentId, { idempotencyKey: 'r' })).rejects.toMatchObject({
      code: 'conflict',
      retryable: false,
    });
  });

  it('the declined set can change while the lab runs', async () => {
    const lab = createLab();
    lab.systems.payments.setDeclinedAccounts(['acct_1']);
    const r = await lab.clients.payments.charge({ accountId: 'acct_1', amountCents: 100, currency: 'EUR' }, { idempotencyKey: 'a' });
    expect(r.status).toBe('declined');
    await lab.reset();
    expect(lab.systems.payments.declinedAccounts()).toEqual([]);
  });

  it('refunds once; refunding again succeeds, an unknown charge is a 404', async () => {
    const lab = createLab();
    const { paymentId } = await lab.clients.payments.charge({ accountId: 'a', amountCents: 100, currency: 'EUR' }, { idempotencyKey: 'c' });
    await lab.clients.payments.refund(paymentId, { idempotencyKey: 'r1' });
    await lab.clients.payments.refund(paymentId, { idempotencyKey: 'r2' });
    // The second refund finds the first and refunds nothing more.
    expect(lab.systems.payments.allCharges()[0]).toMatchObject({ refundId: 're_000001' });
    expect(await lab.liveRecords()).toEqual([]);
    await expect(lab.clients.payments.refund('ch_nope', { idempotencyKey: 'r3' })).rejects.toMatchObject({ status: 404, retryable: false });
  });

  it('rejects invalid amounts without retry', async () => {
    const lab = createLab();
    await expect(
      lab.clients.payments.charge({ accountId: 'a', amountCents: 0, currency: 'EUR' }, { idempotencyKey: 'z' }),
    ).rejects.toMatchObject({ code: 'invalid_request', retryable: false });
    await expect(
      lab.clients.payments.charge({ accountId: 'a', amountCents: 12.5, currency: 'EUR' }, { idempotencyKey: 'y' }),
    ).rejects.toMatchObject({ code: 'invalid_request' });
  });

  it('deleting a payment customer twice succeeds', async () => {
    const lab = createLab();
    const { paymentCustomerId } = await lab.clients.payments.createCustomer({ email: 'a@example.net', name: 'A' }, { idempotencyKey: 'c' });
    await lab.clients.payments.deleteCustomer(paymentCustomerId, { idempotencyKey: 'd1' });
    await lab.clients.payments.deleteCustomer(paymentCustomerId, { idempotencyKey: 'd2' });
    expect((await lab.records()).payments.customers).toEqual([]);
  });
});
