import { describe, expect, it } from 'vitest';
import { ExternalSystemError } from './clients/index.ts';
import { createFakeClients, fakeContext, notFound } from './fake-clients.ts';
import { createServiceSteps } from './service-steps.ts';

const ctx = fakeContext({ idempotencyKey: 'inst_2:purge:1' });

describe('service lifecycle steps', () => {
  it('set each status with the idempotency key, and each step has its opposite', async () => {
    const fake = createFakeClients();
    const steps = createServiceSteps(fake.clients);
    expect(await steps.suspendSubscriber.run({ subscriberId: 'sub_1' }, ctx)).toEqual({ subscriberId: 'sub_1', status: 'suspended' });
    expect(await steps.activateSubscriber.run({ subscriberId: 'sub_1' }, ctx)).toEqual({ subscriberId: 'sub_1', status: 'active' });
    expect(await steps.suspendRadiusAccount.run({ username: 'ada' }, ctx)).toEqual({ username: 'ada', suspended: true });
    expect(await steps.resumeRadiusAccount.run({ username: 'ada' }, ctx)).toEqual({ username: 'ada', suspended: false });
    expect(await steps.suspendBillingService.run({ serviceId: 'svc_1' }, ctx)).toEqual({ serviceId: 'svc_1', status: 'suspended' });
    expect(await steps.resumeBillingService.run({ serviceId: 'svc_1' }, ctx)).toEqual({ serviceId: 'svc_1', status: 'active' });
    expect(fake.calls.map((c) => c.args)).toEqual([
      ['sub_1', 'suspended', { idempotencyKey: ctx.idempotencyKey, signal: ctx.signal }],
      ['sub_1', 'active', { idempotencyKey: ctx.idempotencyKey, signal: ctx.signal }],
      ['ada', true, { idempotencyKey: ctx.idempotencyKey, signal: ctx.signal }],
      ['ada', false, { idempotencyKey: ctx.idempotencyKey, signal: ctx.signal }],
      ['svc_1', 'suspended', { idempotencyKey: ctx.idempotencyKey, signal: ctx.signal }],
      ['svc_1', 'active', { idempotencyKey: ctx.idempotencyKey, signal: ctx.signal }],
    ]);
  });

  it('purge removes everything with one derived key per call', async () => {
    const fake = createFakeClients();
    const result = await createServiceSteps(fake.clients).purgeSubscriber.run(
      { subscriberId: 'sub_1', username: 'ada', serviceId: 'svc_1', addressId: 11, cpeDeviceId: 'cpe-42' },
      ctx,
    );
    expect(result).toEqual({
      removed: ['billingService', 'radiusAccount', 'ipAddress', 'cpeConfiguration', 'subscriber'],
      alreadyGone: [],
    });
    expect(fake.calls.map((c) => [c.op, (c.args.at(-1) as { idempotencyKey: string }).idempotencyKey])).toEqual([
      ['billing.removeService', 'inst_2:purge:1:billing'],
      ['radius.deleteAccount', 'inst_2:purge:1:radius'],
      ['ipam.releaseAddress', 'inst_2:purge:1:ipam'],
      ['cpe.reset', 'inst_2:purge:1:cpe'],
      ['customers.deleteSubscriber', 'inst_2:purge:1:subscriber'],
    ]);
  });

  it('a retried purge resumes: what the failed attempt removed is now "already gone"', async () => {
    const fake = createFakeClients();
    const purge = createServiceSteps(fake.clients).purgeSubscriber;
    const input = { subscriberId: 'sub_1', username: 'ada', serviceId: 'svc_1' };
    fake.failWith('radius.deleteAccount', new ExternalSystemError('radius', 'deleteAccount', 'timeout', true, 504));
    await expect(purge.run(input, ctx)).rejects.toThrow('timeout');
    fake.failWith('radius.deleteAccount', null);
    fake.failWith('billing.removeService', notFound('billing', 'removeService'));
    expect(await purge.run(input, { ...ctx, attempt: 2 })).toEqual({
      removed: ['radiusAccount', 'subscriber'],
      alreadyGone: ['billingService'],
    });
    expect(purge.policy).toMatchObject({ maxAttempts: 10 });
  });

  it('sends a service notice by email', async () => {
    const fake = createFakeClients();
    const sent = await createServiceSteps(fake.clients).sendServiceNotice.run(
      { to: 'ada@example.net', template: 'service-suspended' },
      ctx,
    );
    expect(sent).toEqual({ messageId: 'msg_1' });
    expect(fake.callsOf('messaging.sendEmail')).toEqual([
      [
        { to: 'ada@example.net', template: 'service-suspended' },
        { idempotencyKey: ctx.idempotencyKey, signal: ctx.signal },
      ],
    ]);
  });
});
