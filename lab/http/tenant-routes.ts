import { Hono } from 'hono';
import { z } from 'zod';
import type { Lab } from '../lab.ts';
import { callOptions, jsonBody, param, schemas, type LabEnv } from './route-kit.ts';

/** Routes of the tenant infrastructure (`/infra/...`). */
export function tenantRoutes(lab: Lab): Hono<LabEnv> {
  const app = new Hono<LabEnv>();
  const { tenants } = lab.clients;

  app.post('/infra/tenants', async (c) => {
    const body = await jsonBody(c, z.object({ tenantId: z.string(), name: z.string(), plan: z.string() }), 'tenants', 'createTenant');
    return c.json(await tenants.createTenant(body, callOptions(c, 'tenants', 'createTenant')), 201);
  });
  app.delete('/infra/tenants/:id', async (c) => {
    await tenants.deleteTenant(param(c, 'id'), callOptions(c, 'tenants', 'deleteTenant'));
    return c.body(null, 204);
  });
  app.put('/infra/tenants/:id/status', async (c) => {
    const { status } = await jsonBody(c, schemas.tenantStatus, 'tenants', 'setTenantStatus');
    await tenants.setTenantStatus(param(c, 'id'), status, callOptions(c, 'tenants', 'setTenantStatus'));
    return c.body(null, 204);
  });
  app.post('/infra/tenants/:id/schema', async (c) =>
    c.json(await tenants.createSchema(param(c, 'id'), callOptions(c, 'tenants', 'createSchema')), 201),
  );
  app.delete('/infra/schemas/:schema', async (c) => {
    await tenants.dropSchema(param(c, 'schema'), callOptions(c, 'tenants', 'dropSchema'));
    return c.body(null, 204);
  });
  app.post('/infra/tenants/:id/admin-users', async (c) => {
    const { email } = await jsonBody(c, z.object({ email: z.string() }), 'tenants', 'createAdminUser');
    return c.json(await tenants.createAdminUser({ tenantId: param(c, 'id'), email }, callOptions(c, 'tenants', 'createAdminUser')), 201);
  });
  app.delete('/infra/users/:id', async (c) => {
    await tenants.deleteUser(param(c, 'id'), callOptions(c, 'tenants', 'deleteUser'));
    return c.body(null, 204);
  });
  app.post('/infra/tenants/:id/ingresses', async (c) => {
    const { hostname } = await jsonBody(c, z.object({ hostname: z.string() }), 'tenants', 'createIngress');
    return c.json(await tenants.createIngress({ tenantId: param(c, 'id'), hostname }, callOptions(c, 'tenants', 'createIngress')), 201);
  });
  app.delete('/infra/ingresses/:id', async (c) => {
    await tenants.deleteIngress(param(c, 'id'), callOptions(c, 'tenants', 'deleteIngress'));
    return c.body(null, 204);
  });
  app.post('/infra/tenants/:id/default-plans', async (c) =>
    c.json(await tenants.installDefaultPlans(param(c, 'id'), callOptions(c, 'tenants', 'installDefaultPlans')), 201),
  );
  app.post('/infra/plans/removals', async (c) => {
    const { planIds } = await jsonBody(c, z.object({ planIds: z.array(z.string()) }), 'tenants', 'removePlans');
    await tenants.removePlans(planIds, callOptions(c, 'tenants', 'removePlans'));
    return c.body(null, 204);
  });
  app.post('/infra/tenants/:id/notification-channels', async (c) =>
    c.json(await tenants.enableNotifications(param(c, 'id'), callOptions(c, 'tenants', 'enableNotifications')), 201),
  );
  app.delete('/infra/notification-channels/:id', async (c) => {
    await tenants.disableNotifications(param(c, 'id'), callOptions(c, 'tenants', 'disableNotifications'));
    return c.body(null, 204);
  });

  return app;
}
