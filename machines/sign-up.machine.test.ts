import { describe, expect, it } from 'vitest';
import { Drive, childEvents, done, fail, replayShortestPaths, spawns, timers } from './machine-testing.ts';
import { SignUpInputSchema, signUpMachine as machine, type SignUpInput } from './sign-up.machine.ts';

const input: SignUpInput = SignUpInputSchema.parse({ email: 'ada@example.net', name: 'Ada', phone: '+33612345678' });
const outputs = {
  account: { customerId: 'cus_1' },
  verificationEmail: { messageId: 'msg_v' },
  paymentCustomer: { paymentCustomerId: 'pc_1' },
  welcomeEmail: { messageId: 'msg_w' },
  welcomeSms: { messageId: 'msg_s' },
};
const DEADLINE = 'xstate.after.verificationTimeout.sign-up.awaitingVerification';

/** Drives to the verification wait. */
function waiting(i: SignUpInput = input): Drive {
  return new Drive(machine, i).send(done('account', outputs.account)).send(done('verificationEmail', outputs.verificationEmail));
}

describe('sign-up', () => {
  it('validates its input and defaults the verification deadline to 24 h', () => {
    expect(input.verificationTimeoutMs).toBe(86_400_000);
    expect(SignUpInputSchema.safeParse({ email: 'nope', name: 'Ada' }).success).toBe(false);
    expect(SignUpInputSchema.safeParse({ email: 'a@b.co', name: 'Ada', phone: '0612' }).success).toBe(false);
  });

  it('creates the account, sends the link and arms the deadline as a delayed raise', () => {
    const d = waiting();
    expect(d.snapshot.value).toBe('awaitingVerification');
    expect(d.started.map((s) => [s.id, s.src])).toEqual([
      ['account', 'createUserAccount'],
      ['verificationEmail', 'sendVerificationEmail'],
    ]);
    expect(d.started[1]!.input).toEqual({ email: 'ada@example.net', name: 'Ada', customerId: 'cus_1' });
    expect(timers(d.actions)).toEqual([{ id: DEADLINE, delay: 86_400_000, event: { type: DEADLINE } }]);
  });

  it('takes the deadline from the input', () => {
    const d = waiting(SignUpInputSchema.parse({ email: 'ada@example.net', name: 'Ada', verificationTimeoutMs: 60_000 }));
    expect(timers(d.actions)[0]!.delay).toBe(60_000);
  });

  it('on verification cancels the deadline, creates the payment customer, then welcomes by email and SMS in parallel', () => {
    const d = waiting().send({ type: 'email.verified', email: 'ADA@example.net' });
    expect(d.actions).toContainEqual(expect.objectContaining({ type: 'xstate.cancel', params: { sendId: DEADLINE } }));
    expect(spawns(d.actions)).toEqual([
      { id: 'paymentCustomer', src: 'createPaymentCustomer', input: { email: 'ada@example.net', name: 'Ada' } },
    ]);
    d.send(done('paymentCustomer', outputs.paymentCustomer));
    expect(spawns(d.actions).map((s) => s.id)).toEqual(['welcomeEmail', 'welcomeSms']);
    d.send(done('welcomeSms', outputs.welcomeSms)).send(done('welcomeEmail', outputs.welcomeEmail));
    expect(d.snapshot.output).toEqual({
      outcome: 'completed',
      result: { customerId: 'cus_1', paymentCustomerId: 'pc_1', welcome: { email: 'sent', sms: 'sent' } },
    });
  });

  it('ignores a verification for another address', () => {
    expect(waiting().snapshot.can({ type: 'email.verified', email: 'eve@example.net' })).toBe(false);
  });

  it('deletes the account when the deadline passes', () => {
    const d = waiting().send({ type: DEADLINE });
    expect(d.snapshot.value).toEqual({ compensating: 'account' });
    expect(spawns(d.actions)).toEqual([{ id: 'compensate.account', src: 'deleteUserAccount', input: { customerId: 'cus_1' } }]);
    d.send(done('compensate.account'));
    expect(d.snapshot.output).toMatchObject({
      outcome: 'rolled_back',
      failure: { step: 'verifyEmail', error: { name: 'VerificationTimeout' } },
    });
  });

  it('undoes the payment customer, then the account, when cancelled while the payment customer is created', () => {
    const d = waiting().send({ type: 'email.verified' }).send({ type: 'workflow.cancel', reason: 'fraud check' });
    d.send(done('paymentCustomer', outputs.paymentCustomer)).send(done('compensate.paymentCustomer')).send(done('compensate.account'));
    expect(d.startedIds.slice(-2)).toEqual(['compensate.paymentCustomer', 'compensate.account']);
    expect(d.started.at(-2)!.input).toEqual({ paymentCustomerId: 'pc_1' });
    expect(d.snapshot.output).toMatchObject({ outcome: 'cancelled', reason: 'fraud check' });
  });

  it('compensates at once when cancelled while waiting, and after the step in flight otherwise', () => {
    expect(waiting().send({ type: 'workflow.cancel' }).snapshot.value).toEqual({ compensating: 'account' });
    const d = new Drive(machine, input).send({ type: 'workflow.cancel' }).send(done('account', outputs.account));
    expect(d.snapshot.value).toEqual({ compensating: 'account' });
  });

  it('rolls back the completed steps in reverse when any step fails', () => {
    expect(new Drive(machine, input).send(fail('account')).snapshot.output).toMatchObject({
      outcome: 'rolled_back',
      failure: { step: 'account' },
    });
    const email = new Drive(machine, input).send(done('account', outputs.account)).send(fail('verificationEmail'));
    expect(email.startedIds.at(-1)).toBe('compensate.account');
    const payment = waiting().send({ type: 'email.verified' }).send(fail('paymentCustomer'));
    expect(payment.startedIds.at(-1)).toBe('compensate.account');
    expect(payment.snapshot.context.failure).toMatchObject({ step: 'paymentCustomer' });
  });

  it('completes a verified sign-up even when a welcome message fails, and skips the SMS without a phone', () => {
    const d = waiting({ ...input, phone: undefined })
      .send({ type: 'email.verified' })
      .send(done('paymentCustomer', outputs.paymentCustomer));
    expect(spawns(d.actions).map((s) => s.id)).toEqual(['welcomeEmail']);
    d.send(fail('welcomeEmail'));
    expect(d.snapshot.output).toMatchObject({ outcome: 'completed', result: { welcome: { email: 'failed', sms: 'skipped' } } });
  });

  it('waits for an operator when deleting the account fails', () => {
    const d = waiting().send({ type: DEADLINE }).send(fail('compensate.account'));
    expect(d.snapshot.value).toEqual({ compensating: 'account_failed' });
    expect(d.snapshot.hasTag('compensation_failed')).toBe(true);
    d.send({ type: 'operator.retry' });
    expect(spawns(d.actions).map((s) => s.id)).toEqual(['compensate.account']);
    d.send(fail('compensate.account')).send({ type: 'operator.resolve', reason: 'removed by support' });
    expect(d.snapshot.output).toMatchObject({ outcome: 'rolled_back', resolutions: [{ step: 'account', reason: 'removed by support' }] });
  });

  it('replays its shortest paths through transition() and restores each reached state from JSON', () => {
    const events = childEvents(outputs, [
      { type: 'email.verified' },
      { type: DEADLINE },
      { type: 'workflow.cancel' },
      { type: 'operator.retry' },
      { type: 'operator.resolve', reason: 'fixed by hand' },
    ]);
    expect(replayShortestPaths(machine, input, events)).toBeGreaterThan(30);
  });

  it('undoes an account or payment customer whose creation had an unknown outcome, found by its idempotency key', () => {
    // As the runtime delivers it: the rejection in `error`, the outcome and key beside it.
    const unknown = (id: string) =>
      ({
        type: `xstate.error.actor.${id}`,
        error: Object.assign(new Error('lost'), { name: 'ExternalSystemError' }),
        statekeeperStep: { idempotencyKey: `i:${id}:1`, attempts: 1, outcome: 'unknown' },
      }) as never;
    const account = new Drive(machine, input).send(unknown('account'));
    expect(account.snapshot.value).toEqual({ compensating: 'account_recovery' });
    expect(account.started.at(-1)).toMatchObject({
      src: 'createUserAccount',
      input: { statekeeperRecovery: { idempotencyKey: 'i:account:1' } },
    });
    account.send(done('recover.account', { applied: true, result: outputs.account }));
    expect(account.started.at(-1)).toEqual({ id: 'compensate.account', src: 'deleteUserAccount', input: outputs.account });
    expect(account.send(done('compensate.account')).snapshot.value).toBe('rolled_back');

    const payment = waiting().send({ type: 'email.verified' }).send(unknown('paymentCustomer'));
    expect(payment.snapshot.value).toEqual({ compensating: 'paymentCustomer_recovery' });
    payment.send(done('recover.paymentCustomer', { applied: true, result: outputs.paymentCustomer }));
    payment.send(done('compensate.paymentCustomer')).send(done('compensate.account'));
    expect(payment.startedIds.slice(-3)).toEqual(['recover.paymentCustomer', 'compensate.paymentCustomer', 'compensate.account']);
    expect(payment.snapshot.value).toBe('rolled_back');
  });
});
