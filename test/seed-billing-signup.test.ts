import { describe, expect, test } from 'vitest';
import { createLab, type Lab } from '../lab/index.ts';
import { BillingRunInputSchema, SignUpInputSchema } from '../machines/index.ts';
import { refs, runUntilResting, seedSimulation } from './support/seed-harness.ts';

/**
 * The two hand-written seed workflows through the runtime (simulation mode)
 * against the lab: a billing run, where accounts are independent, and a
 * sign-up that waits for an email verification with a deadline.
 */

describe('billing-run', () => {
  /** Four open accounts; the second one's charges decline, the fourth owes nothing. */
  async function billingLab() {
    const lab = createLab({ billing: { usage: { acct_000004: 0 } } });
    const accounts: string[] = [];
    for (const [i, plan] of ['basic', 'standard', 'premium', 'basic'].entries()) {
      const customerId = `cust_run_${i + 1}`;
      accounts.push(
        (await lab.clients.billing.createAccount({ customerId, ownerName: `Owner ${i + 1}` }, { idempotencyKey: `setup:acct:${i}` }))
          .accountId,
      );
      await lab.clients.billing.addService({ customerId, subscriberId: `sub_run_${i + 1}`, plan }, { idempotencyKey: `setup:svc:${i}` });
    }
    lab.systems.payments.setDeclinedAccounts([accounts[1]!]);
    lab.calls.reset();
    return { lab, accounts, sim: await seedSimulation(lab) };
  }

  const run = async (lab: Lab, sim: Awaited<ReturnType<typeof seedSimulation>>) => {
    const { id } = await sim.runtime.start({ machine: 'billing-run', input: BillingRunInputSchema.parse({ period: '2030-01' }) });
    const view = await runUntilResting(sim, id);
    expect(sim.errors).toEqual([]);
    return { id, view, records: await lab.records() };
  };

  test('one declined account does not roll back the others; each account reports its outcome', async () => {
    const { lab, accounts, sim } = await billingLab();
    const { view, records } = await run(lab, sim);
    expect(view.output).toMatchObject({
      outcome: 'completed',
      period: '2030-01',
      accounts: [
        { accountId: accounts[0], status: 'paid', amountCents: 3900, invoiceId: expect.any(String), paymentId: expect.any(String) },
        { accountId: accounts[1], status: 'payment_declined', amountCents: 5900, invoiceId: expect.any(String) },
        { accountId: accounts[2], status: 'paid', amountCents: 10900 },
        { accountId: accounts[3], status: 'nothing_due', amountCents: 0 },
      ],
      reconciliation: {
        accounts: 4,
        invoicedCents: 20700,
        collectedCents: 14800,
        outstandingCents: 5900,
        byStatus: { paid: 2, payment_declined: 1, nothing_due: 1 },
      },
    });
    // The paid accounts stay paid (no refund, no void); the declined invoice stays open for dunning.
    expect(records.billing.invoices.map((i) => [i.accountId, i.status])).toEqual([
      [accounts[0], 'paid'],
      [accounts[1], 'open'],
      [accounts[2], 'paid'],
    ]);
    expect(records.payments.charges.map((c) => c.accountId)).toEqual([accounts[0], accounts[2]]);
    expect(lab.systems.payments.allCharges().map((c) => c.status)).toEqual(['succeeded', 'declined', 'succeeded']);
    expect(lab.calls.count('payments', 'refund') + lab.calls.count('billing', 'voidInvoice')).toBe(0);
  });

  test('a charge whose invoice cannot be marked paid is reported charged_unrecorded, then repaired by reconciliation', async () => {
    const { lab, accounts, sim } = await billingLab();
    // markInvoicePaid allows 8 attempts: the first account's all fail, later calls succeed.
    lab.faults.inject({ system: 'billing', operation: 'markInvoicePaid', mode: 'fail', times: 8 });
    const { view, records } = await run(lab, sim);
    const out = view.output as {
      accounts: { accountId: string; status: string; invoiceId?: string }[];
      reconciliation: { repaired: string[] };
    };
    const first = out.accounts[0]!;
    expect(first).toMatchObject({ accountId: accounts[0], status: 'paid' });
    expect(out.reconciliation.repaired).toEqual([first.invoiceId]);
    expect(out.accounts.map((a) => a.status)).toEqual(['paid', 'payment_declined', 'paid', 'nothing_due']);
    expect(records.billing.invoices.find((i) => i.invoiceId === first.invoiceId)).toMatchObject({ status: 'paid' });
    // One charge per account charged, whatever the retries.
    expect(lab.systems.payments.allCharges()).toHaveLength(3);
  });
});

describe('sign-up', () => {
  const input = SignUpInputSchema.parse({ email: 'lin@example.net', name: 'Lin', phone: '+33612345678' });

  async function awaitingVerification() {
    const lab = createLab();
    const sim = await seedSimulation(lab);
    const { id } = await sim.runtime.start({ machine: 'sign-up', input });
    await sim.settle();
    expect((await sim.runtime.get(id)).value).toBe('awaitingVerification');
    return { lab, sim, id };
  }

  const outbox = (lab: Lab) => lab.systems.messaging.records().map((m) => (m.channel === 'email' ? `email:${m.template}` : `sms:${m.to}`));

  test('happy path: the verification link carries the instance id; email.verified completes it', async () => {
    const { lab, sim, id } = await awaitingVerification();
    expect(lab.systems.messaging.records()).toMatchObject([{ template: 'verify-email', data: { instanceId: id } }]);
    // A verification for another address is not ours.
    expect(await sim.runtime.send(id, { type: 'email.verified', email: 'someone@else.net' })).toMatchObject({ handled: false });
    expect(await sim.runtime.send(id, { type: 'email.verified', email: 'LIN@example.net' })).toMatchObject({ handled: true });
    const view = await runUntilResting(sim, id);
    expect(view.output).toMatchObject({ outcome: 'completed', result: { welcome: { email: 'sent', sms: 'sent' } } });
    const live = (await lab.liveRecords()).map((r) => `${r.system}/${r.kind}`).sort();
    expect(live).toEqual(['customers/customer', 'payments/customer']);
    expect(outbox(lab).sort()).toEqual(['email:verify-email', 'email:welcome', 'sms:+33612345678']);
  });

  test('the verification deadline passing deletes the account', async () => {
    const { lab, sim, id } = await awaitingVerification();
    await sim.advance(24 * 3600_000 - 1000);
    expect((await sim.runtime.get(id)).value).toBe('awaitingVerification');
    await sim.advance(2000);
    const view = await runUntilResting(sim, id);
    expect(view.output).toMatchObject({ outcome: 'rolled_back', failure: { step: 'verifyEmail', error: { name: 'VerificationTimeout' } } });
    const history = await sim.runtime.history(id, { limit: 100 });
    expect(history.filter((e) => e.source === 'timer').map((e) => e.type)).toEqual([
      'xstate.after.verificationTimeout.sign-up.awaitingVerification',
    ]);
    expect(await lab.liveRecords()).toEqual([]);
    expect(lab.calls.count('payments', 'createCustomer')).toBe(0);
    // Too late now.
    await expect(sim.runtime.send(id, { type: 'email.verified' })).rejects.toMatchObject({ code: 'instance_not_active' });
  });

  test('welcome email and SMS are retried but never sent twice, even when the response is lost', async () => {
    const { lab, sim, id } = await awaitingVerification();
    lab.faults.inject({ system: 'messaging', operation: 'sendEmail', mode: 'failAfterApply', times: 1 });
    lab.faults.inject({ system: 'messaging', operation: 'sendSms', mode: 'fail', times: 2 });
    lab.faults.inject({ system: 'messaging', operation: 'sendSms', mode: 'failAfterApply', times: 1 });
    await sim.runtime.send(id, { type: 'email.verified' });
    const view = await runUntilResting(sim, id);
    expect(view.output).toMatchObject({ outcome: 'completed', result: { welcome: { email: 'sent', sms: 'sent' } } });
    expect(lab.calls.count('messaging', 'sendEmail')).toBe(3);
    expect(lab.calls.count('messaging', 'sendSms')).toBe(4);
    expect(outbox(lab).sort()).toEqual(['email:verify-email', 'email:welcome', 'sms:+33612345678']);
  });

  test('a payment customer that cannot be created undoes the account', async () => {
    const { lab, sim, id } = await awaitingVerification();
    lab.faults.inject({ system: 'payments', operation: 'createCustomer', mode: 'fail' });
    await sim.runtime.send(id, { type: 'email.verified' });
    const view = await runUntilResting(sim, id);
    expect(view.output).toMatchObject({ outcome: 'rolled_back', failure: { step: 'paymentCustomer' } });
    expect(lab.calls.count('payments', 'createCustomer')).toBe(5);
    expect(await lab.liveRecords()).toEqual([]);
  });

  test('a cancel while waiting for the verification undoes the account at once', async () => {
    const { lab, sim, id } = await awaitingVerification();
    const before = refs(await lab.liveRecords());
    expect(before).toHaveLength(1);
    await sim.runtime.cancel(id, { reason: 'changed my mind' });
    const view = await runUntilResting(sim, id);
    expect(view.output).toMatchObject({ outcome: 'cancelled', reason: 'changed my mind' });
    expect(await lab.liveRecords()).toEqual([]);
    // The deadline timer was cancelled with the state: nothing is left to fire.
    expect(await sim.next()).toBe(false);
  });
});
