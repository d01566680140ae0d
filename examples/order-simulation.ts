import assert from 'node:assert/strict';
import { createSimulation } from 'statekeeper/testing';
import { order } from './order-machine.ts';

// The same runtime on an in-memory store and a simulated clock, with a fake step: for your tests.
const sim = await createSimulation({
  machines: [{ machine: order, options: { version: '1' } }],
  steps: { chargeCard: async () => ({ paymentId: 'p1' }) },
});
const { id } = await sim.runtime.start({ machine: 'order', input: { amount: 1 } });
await sim.settle(); // steps run, results committed
assert.equal((await sim.runtime.get(id)).value, 'awaitingShipment');
await sim.advance(24 * 3600_000); // a day passes in milliseconds: the timer fires
assert.equal((await sim.runtime.get(id)).value, 'escalated');
await sim.runtime.close();
console.log('simulated a day: the order escalated');
