import assert from 'node:assert/strict';
import { setup } from 'xstate';
import { step } from 'statekeeper';
import { createSimulation } from 'statekeeper/testing';
import { order } from './order-machine.ts';

// Version 2 of the order: a shipment is in transit until it is delivered. Same id, same timer, same step.
const orderV2 = setup({
  types: {
    input: {} as { amount: number },
    context: {} as { amount: number; paymentId?: string; carrier: string },
    events: {} as { type: 'order.shipped' } | { type: 'order.delivered' },
  },
  actors: { chargeCard: step<{ amount: number }, { paymentId: string }>({ maxAttempts: 5, timeoutMs: 10_000 }) },
}).createMachine({
  id: 'order',
  context: ({ input }) => ({ amount: input.amount, carrier: 'post' }),
  initial: 'charging',
  states: {
    charging: { invoke: { id: 'charge', src: 'chargeCard', input: ({ context }) => context, onDone: 'awaitingShipment' } },
    awaitingShipment: { after: { 86_400_000: 'escalated' }, on: { 'order.shipped': 'inTransit' } },
    inTransit: { on: { 'order.delivered': 'done' } },
    escalated: { on: { 'order.shipped': 'inTransit' } },
    done: { type: 'final' },
  },
});

const sim = await createSimulation({
  machines: [{ machine: order, options: { version: '1' } }],
  steps: { chargeCard: async () => ({ paymentId: 'p1' }) },
});
const { id } = await sim.runtime.start({ machine: 'order', input: { amount: 1 } });
await sim.settle(); // charged; waiting for the shipment, a one-day deadline open
await sim.advance(3600_000);

// Registering version 2 changes no running instance; new starts take it.
sim.runtime.register(orderV2, { version: '2' });
sim.runtime.registerMigration({ machine: 'order', from: '1', to: '2', stateMap: {}, context: (c) => ({ ...c, carrier: 'post' }) });
const report = await sim.runtime.migrateInstance(id, { to: '2' }); // a dry run: reports, changes nothing
assert.deepEqual(report.context.added, ['carrier']);
assert.deepEqual(
  report.effects.kept.map((e) => e.name),
  ['xstate.after.86400000.order.awaitingShipment'],
);
await sim.runtime.migrateInstance(id, { to: '2', dryRun: false, reason: 'shipments in transit', caller: { id: 'ops:ana' } });

// The deadline kept its time: 23 more hours and the migrated order escalates; then version 2 goes on.
await sim.advance(23 * 3600_000);
assert.equal((await sim.runtime.get(id)).value, 'escalated');
await sim.runtime.send(id, { type: 'order.shipped' });
assert.equal((await sim.runtime.get(id)).value, 'inTransit');
await sim.runtime.close();
console.log('migrated to version 2: the deadline fired on time, the order went in transit');
