import { Hono } from 'hono';
import { z } from 'zod';
import type { Lab } from '../lab.ts';
import { LabError } from '../errors.ts';
import { callOptions, intParam, jsonBody, param, schemas, type LabEnv } from './route-kit.ts';

const radiusAccount = z.object({
  username: z.string(),
  password: z.string(),
  framedIp: z.string().optional(),
  rateLimit: z.string().optional(),
});
const allocation = z.object({ description: z.string().default(''), status: z.literal('active').optional() });
const onuActivation = z.object({ serialNumber: z.string(), oltPort: z.string(), subscriberId: z.string() });
const genieTask = z.discriminatedUnion('name', [
  z.object({ name: z.literal('setParameterValues'), parameterValues: schemas.parameterValues }),
  z.object({ name: z.literal('factoryReset') }),
]);

/**
 * Routes of the network systems: RADIUS, IPAM in the NetBox shape, ONU
 * activation, and CPE tasks in the GenieACS NBI shape.
 */
export function networkRoutes(lab: Lab): Hono<LabEnv> {
  const app = new Hono<LabEnv>();
  const { radius, ipam, onu, cpe } = lab.clients;

  app.post('/radius/accounts', async (c) => {
    const body = await jsonBody(c, radiusAccount, 'radius', 'createAccount');
    return c.json(await radius.createAccount(body, callOptions(c, 'radius', 'createAccount')), 201);
  });
  app.delete('/radius/accounts/:username', async (c) => {
    await radius.deleteAccount(param(c, 'username'), callOptions(c, 'radius', 'deleteAccount'));
    return c.body(null, 204);
  });
  app.put('/radius/accounts/:username/suspension', async (c) => {
    const { suspended } = await jsonBody(c, z.object({ suspended: z.boolean() }), 'radius', 'setSuspended');
    await radius.setSuspended(param(c, 'username'), suspended, callOptions(c, 'radius', 'setSuspended'));
    return c.body(null, 204);
  });
  app.get('/radius/radcheck', async (c) => c.json((await lab.systems.radius.records()).radcheck));
  app.get('/radius/radreply', async (c) => c.json((await lab.systems.radius.records()).radreply));

  // NetBox: GET lists the free addresses, POST allocates the next one.
  app.get('/api/ipam/prefixes/:id/available-ips/', (c) => {
    const addresses = lab.systems.ipam.availableAddresses(intParam(c, 'id', 'ipam', 'availableAddresses'));
    return c.json(addresses.map((address) => ({ family: 4, address, vrf: null })));
  });
  app.post('/api/ipam/prefixes/:id/available-ips/', async (c) => {
    const prefixId = intParam(c, 'id', 'ipam', 'allocateAddress');
    const { description } = await jsonBody(c, allocation, 'ipam', 'allocateAddress');
    return c.json(await ipam.allocateAddress({ prefixId, description }, callOptions(c, 'ipam', 'allocateAddress')), 201);
  });
  app.get('/api/ipam/ip-addresses/', (c) => {
    const results = lab.systems.ipam.records();
    return c.json({ count: results.length, next: null, previous: null, results });
  });
  app.delete('/api/ipam/ip-addresses/:id/', async (c) => {
    await ipam.releaseAddress(intParam(c, 'id', 'ipam', 'releaseAddress'), callOptions(c, 'ipam', 'releaseAddress'));
    return c.body(null, 204);
  });

  app.post('/onu/activations', async (c) => {
    const body = await jsonBody(c, onuActivation, 'onu', 'activate');
    return c.json(await onu.activate(body, callOptions(c, 'onu', 'activate')), 201);
  });
  app.delete('/onu/activations/:onuId', async (c) => {
    await onu.deactivate(param(c, 'onuId'), callOptions(c, 'onu', 'deactivate'));
    return c.body(null, 204);
  });

  // GenieACS NBI: the task runs at once, as with ?connection_request on a reachable device.
  app.post('/devices/:id/tasks', async (c) => {
    const deviceId = param(c, 'id');
    const task = await jsonBody(c, genieTask, 'cpe', 'configure');
    const { taskId } =
      task.name === 'setParameterValues'
        ? await cpe.configure({ deviceId, parameterValues: task.parameterValues }, callOptions(c, 'cpe', 'configure'))
        : await cpe.reset(deviceId, callOptions(c, 'cpe', 'reset'));
    const stored = lab.systems.cpe.task(taskId);
    if (!stored) throw LabError.notFound('cpe', task.name === 'setParameterValues' ? 'configure' : 'reset', 'task', taskId);
    return c.json(stored, 200);
  });

  return app;
}
