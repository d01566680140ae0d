import { describe, expect, it } from 'vitest';
import { createLab } from './lab.ts';

let n = 0;
const o = () => ({ idempotencyKey: `billing-${++n}` });

describe('billing', () => {
  it('rates deterministically: base fee plus the prices of active services', async () => {
    const lab = createLab();
    const { accountId } = await lab.clients.billing.createAccount({ customerId: 'cust_1', ownerName: 'Ada' }, o());
    expect(await lab.clients.billing.rateUsage({ accountId, period: '2025-10' }, o())).toEqual({ amountCents: 1000 });
    await lab.clients.billing.addService({ customerId: 'cust_1', subscriberId: 'sub_1', plan: 'standard' }, o());
    const { serviceId } = await lab.clients.billing.addService({ customerId: 'cust_1', subscriberId: 'sub_2', plan: 'premium' }, o());
    await lab.clients.billing.addService({ customerId: 'cust_2', subscriberId: 'sub_3', plan: 'premium' }, o());
    expect(await lab.clients.billing.rateUsage({ accountId, period: '2025-10' }, o())).toEqual({ amountCents: 1000 + 4900 + 9900 });
    await lab.clients.billing.setServiceStatus(serviceId, 'suspended', o());
    expect(await lab.clients.billing.rateUsage({ accountId, period: '2025-11' }, o())).toEqual({ amountCents: 1000 + 4900 });
  });

  it('uses configured usage and prices', async () => {
    const lab = createLab({ billing: { usage: { acct_000002: 123 }, planPrices: { fiber: 7000 }, baseFeeCents: 0 } });
    const a = await lab.clients.billing.createAccount({ customerId: 'c1', ownerName: 'A' }, o());
    const b = await lab.clients.billing.createAccount({ customerId: 'c2', ownerName: 'B' }, o());
    await lab.clients.billing.addService({ customerId: 'c1', subscriberId: 's', plan: 'fiber' }, o());
    expect(await lab.clients.billing.rateUsage({ accountId: a.accountId, period: '2025-10' }, o())).toEqual({ amountCents: 7000 });
    expect(await lab.clients.billing.rateUsage({ accountId: b.accountId, period: '2025-10' }, o())).toEqual({ amountCents: 123 });
  });

  it('lists open accounts as billable', async () => {
    const lab = createLab();
    const a = await lab.clients.billing.createAccount({ customerId: 'c1', ownerName: 'A' }, o());
    const b = await lab.clients.billing.createAccount({ customerId: 'c2', ownerName: 'B' }, o());
    await lab.clients.billing.closeAccount(a.accountId, o());
    expect(await lab.clients.billing.listBillableAccounts({ period: '2025-10' })).toEqual([{ accountId: b.accountId, customerId: 'c2' }]);
    await expect(lab.clients.billing.listBillableAccounts({ period: 'October' })).rejects.toMatchObject({ code: 'invalid_request' });
  });

  it('invoices: open → paid; void is refused once paid; voiding twice succeeds', async () => {
    const lab = createLab();
    const { accountId } = await lab.clients.billing.createAccount({ customerId: 'c1', ownerName: 'A' }, o());
    const paid = await lab.clients.billing.createInvoice({ accountId, period: '2025-10', amountCents: 4900 }, o());
    await lab.clients.billing.markInvoicePaid(paid.invoiceId, 'ch_000001', o());
    await expect(lab.clients.billing.voidInvoice(paid.invoiceId, o())).rejects.toMatchObject({ code: 'conflict', retryable: false });
    const other = await lab.clients.billing.createInvoice({ accountId, period: '2025-11', amountCents: 4900 }, o());
    await lab.clients.billing.voidInvoice(other.invoiceId, o());
    await lab.clients.billing.voidInvoice(other.invoiceId, o());
    await expect(lab.clients.billing.markInvoicePaid(other.invoiceId, 'ch_2', o())).rejects.toMatchObject({ code: 'conflict' });
    expect((await lab.records()).billing.invoices).toEqual([
      { invoiceId: paid.invoiceId, accountId, period: '2025-10', amountCents: 4900, status: 'paid', paymentId: 'ch_000001' },
    ]);
  });

  it('an invoice needs an existing account', async () => {
    const lab = createLab();
    await expect(lab.clients.billing.createInvoice({ accountId: 'acct_x', period: '2025-10', amountCents: 1 }, o())).rejects.toMatchObject({
      status: 404,
    });
  });

  it('removing services and closing accounts leaves no live billing record', async () => {
    const lab = createLab();
    const { accountId } = await lab.clients.billing.createAccount({ customerId: 'c1', ownerName: 'A' }, o());
    const { serviceId } = await lab.clients.billing.addService({ customerId: 'c1', subscriberId: 's', plan: 'basic' }, o());
    expect(await lab.liveRecordCount()).toBe(2);
    await lab.clients.billing.removeService(serviceId, o());
    await lab.clients.billing.removeService(serviceId, o());
    await lab.clients.billing.closeAccount(accountId, o());
    expect(await lab.liveRecordCount()).toBe(0);
    await expect(lab.clients.billing.setServiceStatus(serviceId, 'active', o())).rejects.toMatchObject({ status: 404 });
  });
});
