import { describe, expect, it } from 'vitest';
import { createFakeClients, fakeContext, notFound } from './fake-clients.ts';
import { createSignupSteps } from './signup-steps.ts';

const ctx = fakeContext({ idempotencyKey: 'inst_5:welcomeSms:1', instanceId: 'inst_5' });
const opts = { idempotencyKey: 'inst_5:welcomeSms:1', signal: ctx.signal };

describe('sign-up steps', () => {
  it('create the account and payment customer with the idempotency key', async () => {
    const fake = createFakeClients();
    const s = createSignupSteps(fake.clients);
    expect(await s.createUserAccount.run({ name: 'Ada', email: 'ada@example.net' }, ctx)).toEqual({ customerId: 'cus_1' });
    expect(await s.createPaymentCustomer.run({ name: 'Ada', email: 'ada@example.net' }, ctx)).toEqual({ paymentCustomerId: 'pc_1' });
    expect(fake.calls.map((c) => c.args)).toEqual([
      [{ name: 'Ada', email: 'ada@example.net' }, opts],
      [{ name: 'Ada', email: 'ada@example.net' }, opts],
    ]);
  });

  it('send the verification link with the instance id, so the link handler can deliver email.verified', async () => {
    const fake = createFakeClients();
    await createSignupSteps(fake.clients).sendVerificationEmail.run({ email: 'ada@example.net', name: 'Ada', customerId: 'cus_1' }, ctx);
    expect(fake.callsOf('messaging.sendEmail')).toEqual([
      [{ to: 'ada@example.net', template: 'verify-email', data: { name: 'Ada', customerId: 'cus_1', instanceId: 'inst_5' } }, opts],
    ]);
  });

  it('send welcome messages with the same key on every attempt, so the outbox never sends twice', async () => {
    const fake = createFakeClients();
    const s = createSignupSteps(fake.clients);
    await s.sendWelcomeSms.run({ phone: '+33612345678', name: 'Ada' }, ctx);
    await s.sendWelcomeSms.run({ phone: '+33612345678', name: 'Ada' }, { ...ctx, attempt: 2 });
    await s.sendWelcomeEmail.run({ email: 'ada@example.net', name: 'Ada', customerId: 'cus_1' }, ctx);
    const keys = fake.calls.map((c) => (c.args.at(-1) as { idempotencyKey: string }).idempotencyKey);
    expect(keys).toEqual([opts.idempotencyKey, opts.idempotencyKey, opts.idempotencyKey]);
    expect(fake.callsOf('messaging.sendSms')[0]![0]).toEqual({ to: '+33612345678', text: 'Welcome, Ada! Your account is ready.' });
  });

  it('undo the account and payment customer, tolerating ones already gone', async () => {
    const fake = createFakeClients();
    const s = createSignupSteps(fake.clients);
    fake.failWith('payments.deleteCustomer', notFound('payments', 'deleteCustomer'));
    expect(await s.deletePaymentCustomer.run({ paymentCustomerId: 'pc_1' }, ctx)).toEqual({ id: 'pc_1', alreadyGone: true });
    expect(await s.deleteUserAccount.run({ customerId: 'cus_1' }, ctx)).toEqual({ id: 'cus_1', alreadyGone: false });
  });
});
