import assert from 'node:assert/strict';
import { createSimulation } from 'statekeeper/testing';
import { order } from './order-machine.ts';

// A schedule declared in code: an order every day at 09:00 Berlin time, ticking under the simulated clock.
const sim = await createSimulation({
  machines: [{ machine: order, options: { version: '1' } }],
  steps: { chargeCard: async () => ({ paymentId: 'p1' }) },
});
await sim.runtime.schedules.define({
  id: 'daily-order',
  machine: 'order',
  cron: '0 9 * * *',
  timezone: 'Europe/Berlin',
  input: { amount: 1, note: 'batch of {{tick.date}}' },
  overlap: 'allow',
});
await sim.advance(3 * 24 * 3600_000); // three days pass: three ticks, one order each
const { items } = await sim.runtime.list({ machineId: 'order' });
assert.equal(items.length, 3);
console.log(`three days, three orders; next at ${(await sim.runtime.schedules.get('daily-order')).nextTicks[0]}`);
await sim.runtime.close();
