import { describe, expect, it } from 'vitest';
import { createFakeClients, fakeContext, notFound } from './fake-clients.ts';
import { createTenantSteps } from './tenant-steps.ts';

const ctx = fakeContext({ idempotencyKey: 'inst_3:tenant:1' });
const opts = { idempotencyKey: 'inst_3:tenant:1', signal: ctx.signal };

describe('tenant steps', () => {
  it('provision each resource with the idempotency key and return its id', async () => {
    const fake = createFakeClients();
    const s = createTenantSteps(fake.clients);
    const out = [
      await s.createTenantRecord.run({ tenantId: 'acme', name: 'Acme', plan: 'pro' }, ctx),
      await s.createTenantSchema.run({ tenantId: 'acme' }, ctx),
      await s.createTenantAdmin.run({ tenantId: 'acme', email: 'ops@acme.example' }, ctx),
      await s.createTenantIngress.run({ tenantId: 'acme', hostname: 'acme.example' }, ctx),
      await s.installDefaultPlans.run({ tenantId: 'acme' }, ctx),
      await s.createTenantBillingAccount.run({ tenantId: 'acme', ownerName: 'Acme' }, ctx),
      await s.enableTenantNotifications.run({ tenantId: 'acme' }, ctx),
      await s.activateTenant.run({ tenantId: 'acme' }, ctx),
    ];
    expect(out).toEqual([
      { tenantId: 'acme' },
      { schema: 'tenant_acme' },
      { userId: 'usr_1' },
      { ingressId: 'ing_1', hostname: 'acme.example' },
      { planIds: ['basic', 'pro'] },
      { accountId: 'acc_1' },
      { channelId: 'ch_1' },
      { tenantId: 'acme', status: 'active' },
    ]);
    for (const call of fake.calls) expect(call.args.at(-1)).toEqual(opts);
    expect(fake.callsOf('billing.createAccount')[0]![0]).toEqual({ customerId: 'acme', ownerName: 'Acme' });
    expect(fake.callsOf('tenants.setTenantStatus')[0]!.slice(0, 2)).toEqual(['acme', 'active']);
  });

  it('undo each resource by its recorded id, tolerating one already gone', async () => {
    const fake = createFakeClients();
    const s = createTenantSteps(fake.clients);
    fake.failWith('tenants.dropSchema', notFound('tenants', 'dropSchema'));
    expect(await s.dropTenantSchema.run({ schema: 'tenant_acme' }, ctx)).toEqual({ id: 'tenant_acme', alreadyGone: true });
    await s.deleteTenantRecord.run({ tenantId: 'acme' }, ctx);
    await s.deleteTenantAdmin.run({ userId: 'usr_1' }, ctx);
    await s.deleteTenantIngress.run({ ingressId: 'ing_1' }, ctx);
    await s.removeTenantPlans.run({ planIds: ['basic', 'pro'] }, ctx);
    await s.closeTenantBillingAccount.run({ accountId: 'acc_1' }, ctx);
    await s.disableTenantNotifications.run({ channelId: 'ch_1' }, ctx);
    expect(fake.calls.map((c) => [c.op, c.args[0]])).toEqual([
      ['tenants.dropSchema', 'tenant_acme'],
      ['tenants.deleteTenant', 'acme'],
      ['tenants.deleteUser', 'usr_1'],
      ['tenants.deleteIngress', 'ing_1'],
      ['tenants.removePlans', ['basic', 'pro']],
      ['billing.closeAccount', 'acc_1'],
      ['tenants.disableNotifications', 'ch_1'],
    ]);
  });
});
