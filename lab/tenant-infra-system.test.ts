import { describe, expect, it } from 'vitest';
import { createLab } from './lab.ts';

let n = 0;
const o = () => ({ idempotencyKey: `tenant-${++n}` });

describe('tenant infrastructure', () => {
  it('provisions a tenant and undoes it completely', async () => {
    const lab = createLab();
    const t = lab.clients.tenants;
    await t.createTenant({ tenantId: 'acme-isp', name: 'Acme ISP', plan: 'pro' }, o());
    const { schema } = await t.createSchema('acme-isp', o());
    const { userId } = await t.createAdminUser({ tenantId: 'acme-isp', email: 'root@acme.example' }, o());
    const ingress = await t.createIngress({ tenantId: 'acme-isp', hostname: 'Acme.ISP.example' }, o());
    const { planIds } = await t.installDefaultPlans('acme-isp', o());
    const { channelId } = await t.enableNotifications('acme-isp', o());
    await t.setTenantStatus('acme-isp', 'active', o());
    expect(schema).toBe('tenant_acme_isp');
    expect(ingress.hostname).toBe('acme.isp.example');
    expect(planIds).toHaveLength(3);
    expect((await lab.records()).tenants.tenants).toEqual([{ tenantId: 'acme-isp', name: 'Acme ISP', plan: 'pro', status: 'active' }]);
    expect(await lab.liveRecordCount()).toBe(1 + 1 + 1 + 1 + 3 + 1);

    await t.disableNotifications(channelId, o());
    await t.removePlans(planIds, o());
    await t.deleteIngress(ingress.ingressId, o());
    await t.deleteUser(userId, o());
    await t.dropSchema(schema, o());
    await t.deleteTenant('acme-isp', o());
    expect(await lab.liveRecordCount()).toBe(0);
  });

  it('deleting a tenant does not cascade: what the rollback forgot stays an orphan', async () => {
    const lab = createLab();
    await lab.clients.tenants.createTenant({ tenantId: 'acme', name: 'Acme', plan: 'pro' }, o());
    const { schema } = await lab.clients.tenants.createSchema('acme', o());
    await lab.clients.tenants.deleteTenant('acme', o());
    expect(await lab.orphans()).toEqual([{ system: 'tenants', kind: 'schema', id: schema }]);
  });

  it('a hostname routes to one tenant only; the same tenant gets its ingress back', async () => {
    const lab = createLab();
    await lab.clients.tenants.createTenant({ tenantId: 'a', name: 'A', plan: 'pro' }, o());
    await lab.clients.tenants.createTenant({ tenantId: 'b', name: 'B', plan: 'pro' }, o());
    const first = await lab.clients.tenants.createIngress({ tenantId: 'a', hostname: 'a.isp.example' }, o());
    expect(await lab.clients.tenants.createIngress({ tenantId: 'a', hostname: 'a.isp.example' }, o())).toEqual(first);
    await expect(lab.clients.tenants.createIngress({ tenantId: 'b', hostname: 'a.isp.example' }, o())).rejects.toMatchObject({
      code: 'conflict',
      retryable: false,
    });
  });

  it('a tenant id taken with other details is a conflict; steps on an unknown tenant are 404', async () => {
    const lab = createLab();
    await lab.clients.tenants.createTenant({ tenantId: 'acme', name: 'Acme', plan: 'pro' }, o());
    await expect(lab.clients.tenants.createTenant({ tenantId: 'acme', name: 'Other', plan: 'pro' }, o())).rejects.toMatchObject({
      status: 409,
    });
    await expect(lab.clients.tenants.createSchema('ghost', o())).rejects.toMatchObject({ status: 404, retryable: false });
    await expect(lab.clients.tenants.createTenant({ tenantId: 'Not Valid', name: 'x', plan: 'p' }, o())).rejects.toMatchObject({
      status: 400,
    });
  });
});
