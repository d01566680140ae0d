import assert from 'node:assert/strict';
import { createSimulation } from 'statekeeper/testing';
import { order } from './order-machine.ts';

// The order is found by the payment id its charge step put in the context: the carrier's event names no instance.
const sim = await createSimulation({
  machines: [{ machine: order, options: { version: '1', correlation: { payment: 'paymentId' } } }],
  steps: { chargeCard: async () => ({ paymentId: 'p-42' }) },
});
const { id } = await sim.runtime.start({ machine: 'order', input: { amount: 1 } });
await sim.settle();
const { deliveries } = await sim.runtime.correlate({ key: 'payment', value: 'p-42', event: { type: 'order.shipped' } });
assert.equal(deliveries[0]?.instanceId, id);
assert.equal((await sim.runtime.get(id)).status, 'done');
await sim.runtime.close();
console.log('correlated by payment id: the order is done');
