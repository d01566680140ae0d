import { Hono } from 'hono';
import { z } from 'zod';
import type { FaultSpec } from '../faults.ts';
import type { Lab } from '../lab.ts';
import { LAB_OPERATIONS, type SystemName } from '../operations.ts';
import { jsonBody, type LabEnv } from './route-kit.ts';

const systemNames = Object.keys(LAB_OPERATIONS) as [SystemName, ...SystemName[]];

const faultSpec = z.object({
  system: z.enum(systemNames),
  operation: z.string().optional(),
  mode: z.enum(['fail', 'latency', 'failAfterApply']),
  times: z.number().optional(),
  latencyMs: z.number().optional(),
  retryable: z.boolean().optional(),
  status: z.number().optional(),
  message: z.string().optional(),
});

/**
 * The lab's own routes: faults (`/lab/faults`), call counts (`/lab/calls`),
 * the inventory (`/lab/records`), `/lab/reset`, and the payment provider's
 * declined accounts.
 */
export function controlRoutes(lab: Lab): Hono<LabEnv> {
  const app = new Hono<LabEnv>();

  app.get('/lab/faults', (c) => c.json(lab.faults.list()));
  app.post('/lab/faults', async (c) => {
    const spec = await jsonBody(c, faultSpec, 'lab', 'injectFault');
    return c.json(lab.faults.inject(dropUndefined(spec) as FaultSpec), 201);
  });
  app.delete('/lab/faults', (c) => {
    const { id, system, operation } = c.req.query();
    return c.json({ cleared: lab.faults.clear(dropUndefined({ id, system: system as SystemName | undefined, operation })) });
  });
  app.delete('/lab/faults/:id', (c) => c.json({ cleared: lab.faults.clear({ id: c.req.param('id') }) }));

  app.get('/lab/calls', (c) => c.json(lab.calls.all()));

  app.get('/lab/records', async (c) => {
    const [records, live] = await Promise.all([lab.records(), lab.liveRecords()]);
    return c.json({ records, live, liveCount: live.length });
  });

  app.post('/lab/reset', async (c) => {
    await lab.reset();
    return c.body(null, 204);
  });

  app.get('/lab/payments/declined-accounts', (c) => c.json({ accounts: lab.systems.payments.declinedAccounts() }));
  app.put('/lab/payments/declined-accounts', async (c) => {
    const { accounts } = await jsonBody(c, z.object({ accounts: z.array(z.string()) }), 'lab', 'setDeclinedAccounts');
    lab.systems.payments.setDeclinedAccounts(accounts);
    return c.body(null, 204);
  });

  return app;
}

// Optional fields sent as undefined must not reach the fault (its list shows every key).
function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
