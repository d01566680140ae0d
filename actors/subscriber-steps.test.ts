import { describe, expect, it } from 'vitest';
import { ExternalSystemError } from './clients/index.ts';
import { createFakeClients, fakeContext, notFound } from './fake-clients.ts';
import { createSubscriberSteps } from './subscriber-steps.ts';

const ctx = fakeContext({ idempotencyKey: 'inst_1:radiusAccount:1' });
const opts = { idempotencyKey: 'inst_1:radiusAccount:1', signal: ctx.signal };

describe('subscriber steps', () => {
  it('call each system with the input, the idempotency key and the abort signal, and return the ids created', async () => {
    const fake = createFakeClients();
    const steps = createSubscriberSteps(fake.clients);
    const results = {
      customer: await steps.createCustomer.run({ name: 'Ada', email: 'ada@example.net', tenantId: 't1' }, ctx),
      subscriber: await steps.createSubscriber.run({ customerId: 'cus_1', username: 'ada', plan: 'fiber' }, ctx),
      radius: await steps.createRadiusAccount.run({ username: 'ada', password: 'pw-123456', framedIp: '203.0.113.9' }, ctx),
      ip: await steps.allocateIpAddress.run({ prefixId: 7, description: 'subscriber ada' }, ctx),
      onu: await steps.activateOnu.run({ serialNumber: 'ALCL1', oltPort: 'olt1/1/1', subscriberId: 'sub_1' }, ctx),
      cpe: await steps.configureCpe.run({ deviceId: 'cpe-42', parameterValues: [['a.b', 'ada', 'xsd:string']] }, ctx),
      service: await steps.createBillingService.run({ customerId: 'cus_1', subscriberId: 'sub_1', plan: 'fiber' }, ctx),
    };
    expect(results).toEqual({
      customer: { customerId: 'cus_1' },
      subscriber: { subscriberId: 'sub_1', username: 'ada' },
      radius: { username: 'ada' },
      ip: { addressId: 11, address: '198.51.100.11/32' },
      onu: { onuId: 'onu_1' },
      cpe: { deviceId: 'cpe-42', taskId: 'task_1' },
      service: { serviceId: 'svc_1' },
    });
    expect(JSON.parse(JSON.stringify(results))).toEqual(results);
    expect(fake.calls.map((c) => c.op)).toEqual([
      'customers.createCustomer',
      'customers.createSubscriber',
      'radius.createAccount',
      'ipam.allocateAddress',
      'onu.activate',
      'cpe.configure',
      'billing.addService',
    ]);
    for (const call of fake.calls) expect(call.args.at(-1)).toEqual(opts);
    expect(fake.callsOf('radius.createAccount')[0]![0]).toEqual({ username: 'ada', password: 'pw-123456', framedIp: '203.0.113.9' });
  });

  it('undo each creation with the recorded id', async () => {
    const fake = createFakeClients();
    const steps = createSubscriberSteps(fake.clients);
    await steps.deleteCustomer.run({ customerId: 'cus_1' }, ctx);
    await steps.deleteSubscriber.run({ subscriberId: 'sub_1' }, ctx);
    await steps.deleteRadiusAccount.run({ username: 'ada' }, ctx);
    await steps.releaseIpAddress.run({ addressId: 11 }, ctx);
    await steps.deactivateOnu.run({ onuId: 'onu_1' }, ctx);
    expect(await steps.resetCpe.run({ deviceId: 'cpe-42' }, ctx)).toEqual({ deviceId: 'cpe-42', taskId: 'task_reset' });
    expect(await steps.removeBillingService.run({ serviceId: 'svc_1' }, ctx)).toEqual({ id: 'svc_1', alreadyGone: false });
    expect(fake.calls.map((c) => [c.op, c.args[0]])).toEqual([
      ['customers.deleteCustomer', 'cus_1'],
      ['customers.deleteSubscriber', 'sub_1'],
      ['radius.deleteAccount', 'ada'],
      ['ipam.releaseAddress', 11],
      ['onu.deactivate', 'onu_1'],
      ['cpe.reset', 'cpe-42'],
      ['billing.removeService', 'svc_1'],
    ]);
  });

  it('treat an undo of something already gone as done, so repeating a compensation is safe', async () => {
    const fake = createFakeClients();
    const steps = createSubscriberSteps(fake.clients);
    expect(await steps.deleteRadiusAccount.run({ username: 'ada' }, ctx)).toEqual({ id: 'ada', alreadyGone: false });
    fake.failWith('radius.deleteAccount', notFound('radius', 'deleteAccount'));
    expect(await steps.deleteRadiusAccount.run({ username: 'ada' }, ctx)).toEqual({ id: 'ada', alreadyGone: true });
  });

  it('let other errors through for the runtime to retry or fail', async () => {
    const fake = createFakeClients();
    const outage = new ExternalSystemError('onu', 'deactivate', 'OLT unreachable', true, 503);
    fake.failWith('onu.deactivate', outage);
    await expect(createSubscriberSteps(fake.clients).deactivateOnu.run({ onuId: 'onu_1' }, ctx)).rejects.toBe(outage);
  });
});
