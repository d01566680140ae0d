import { describe, expect, test } from 'vitest';
import { assign, setup } from 'xstate';
import type { InstanceStore } from '../runtime/ports.ts';
import { createSimulation as createSim, type SimulationOptions } from '../runtime/testing/index.ts';
import { fullProvisioningInput, preparedLab, runUntilResting, seedSimulation, subscriberProvisioning } from './support/seed-harness.ts';

type OrderContext = { orderId: string | null; customer: { email: string }; paid: boolean };
type OrderEvent =
  | { type: 'payment.succeeded' }
  | { type: 'order.renumber'; orderId: string }
  | { type: 'order.ship' }
  | { type: 'order.forget' };

/** An order waiting for its payment, found by its order number and its customer's e-mail. */
const order = setup({
  types: { context: {} as OrderContext, input: {} as { orderId?: string; email: string }, events: {} as OrderEvent },
}).createMachine({
  id: 'order',
  context: ({ input }) => ({ orderId: input.orderId ?? null, customer: { email: input.email }, paid: false }),
  initial: 'awaitingPayment',
  on: {
    'order.renumber': { actions: assign({ orderId: ({ event }) => event.orderId }) },
    'order.forget': { actions: assign({ orderId: null }) },
  },
  states: {
    awaitingPayment: { on: { 'payment.succeeded': { target: 'paid', actions: assign({ paid: true }) } } },
    paid: { on: { 'order.ship': 'shipped' } },
    shipped: { type: 'final' },
  },
});

const orderOptions = {
  version: '1',
  correlation: { order: (ctx: OrderContext) => ctx.orderId, customer: 'customer.email' },
};

/**
 * Correlation by business key on every store: run by `runtime/correlation.test.ts` (memory) and
 * `test/correlation.pg.test.ts` (Postgres).
 */
export function correlationSuite(name: string, makeStore: () => Promise<InstanceStore>) {
  const createSimulation = async (o: SimulationOptions = {}) =>
    createSim({ machines: [{ machine: order, options: orderOptions }], ...o, store: await makeStore() });

  describe(`correlation by business key on ${name}`, () => {
    test('the event reaches the one instance waiting on the value, and only it', async () => {
      const sim = await createSimulation();
      const a = await sim.runtime.start({ machine: 'order', input: { orderId: 'A-1', email: 'ada@example.net' } });
      const b = await sim.runtime.start({ machine: 'order', input: { orderId: 'B-2', email: 'bob@example.net' } });
      const res = await sim.runtime.correlate({ key: 'order', value: 'B-2', event: { type: 'payment.succeeded' } });
      expect(res.deliveries).toEqual([expect.objectContaining({ instanceId: b.id, handled: true, value: 'paid' })]);
      expect((await sim.runtime.get(a.id)).value).toBe('awaitingPayment');
      // The history records it as any sent event.
      expect((await sim.runtime.history(b.id)).at(-1)).toMatchObject({ type: 'payment.succeeded', source: 'api' });
      // Also by the other key, and narrowed to the machine.
      const byCustomer = await sim.runtime.correlate({
        machine: 'order',
        key: 'customer',
        value: 'ada@example.net',
        event: { type: 'payment.succeeded' },
      });
      expect(byCustomer.deliveries).toEqual([expect.objectContaining({ instanceId: a.id, value: 'paid' })]);
    });

    test('no match is correlation_not_found; a key nobody declares or a bad value is refused; nothing changes', async () => {
      const sim = await createSimulation();
      const a = await sim.runtime.start({ machine: 'order', input: { orderId: 'A-1', email: 'ada@example.net' } });
      const pay = { type: 'payment.succeeded' };
      await expect(sim.runtime.correlate({ key: 'order', value: 'Z-9', event: pay })).rejects.toMatchObject({
        code: 'correlation_not_found',
      });
      await expect(sim.runtime.correlate({ key: 'sku', value: 'A-1', event: pay })).rejects.toMatchObject({ code: 'invalid_argument' });
      await expect(sim.runtime.correlate({ machine: 'nope', key: 'order', value: 'A-1', event: pay })).rejects.toMatchObject({
        code: 'machine_not_found',
      });
      for (const value of ['', 'x'.repeat(257), 'A\u00001'])
        await expect(sim.runtime.correlate({ key: 'order', value, event: pay })).rejects.toMatchObject({ code: 'invalid_argument' });
      await expect(sim.runtime.correlate({ key: 'order', value: 'A-1', event: { type: 'xstate.init' } })).rejects.toMatchObject({
        code: 'invalid_argument',
      });
      // An event the state does not take is reported unhandled, exactly as send reports it.
      const other = await sim.runtime.correlate({ key: 'order', value: 'A-1', event: { type: 'order.ship' } });
      expect(other.deliveries).toEqual([expect.objectContaining({ instanceId: a.id, handled: false, value: 'awaitingPayment' })]);
      expect((await sim.runtime.get(a.id)).version).toBe(1);
    });

    test('several matches are correlation_ambiguous listing them; with all, each gets the event once', async () => {
      const sim = await createSimulation();
      const a = await sim.runtime.start({ machine: 'order', input: { orderId: 'A-1', email: 'ada@example.net' } });
      const b = await sim.runtime.start({ machine: 'order', input: { orderId: 'A-2', email: 'ada@example.net' } });
      const pay = { key: 'customer', value: 'ada@example.net', event: { type: 'payment.succeeded' } };
      const err = await sim.runtime.correlate(pay).catch((e) => e);
      expect(err).toMatchObject({ code: 'correlation_ambiguous' });
      expect([...err.details.instanceIds].sort()).toEqual([a.id, b.id].sort());
      expect((await sim.runtime.get(a.id)).version).toBe(1);
      expect((await sim.runtime.get(b.id)).version).toBe(1);
      const all = await sim.runtime.correlate({ ...pay, all: true, idempotencyKey: 'pay-ada-1' });
      expect(all.deliveries.map((d) => ('handled' in d ? [d.instanceId, d.handled] : d)).sort()).toEqual(
        [
          [a.id, true],
          [b.id, true],
        ].sort(),
      );
      // Repeated under the same key: each instance answers with its first result, nothing is applied twice.
      const again = await sim.runtime.correlate({ ...pay, all: true, idempotencyKey: 'pay-ada-1' });
      expect(again.deliveries.every((d) => 'duplicate' in d && d.duplicate)).toBe(true);
      expect((await sim.runtime.history(a.id)).filter((e) => e.type === 'payment.succeeded')).toHaveLength(1);
    });

    test('tenants are isolated: each finds only its own instance under the same value', async () => {
      const sim = await createSimulation();
      const acme = await sim.runtime.start({ machine: 'order', tenant: 'acme', input: { orderId: 'A-1', email: 'x@acme.test' } });
      const pay = { key: 'order', value: 'A-1', event: { type: 'payment.succeeded' } };
      await expect(sim.runtime.correlate({ ...pay, tenant: 'other' })).rejects.toMatchObject({ code: 'correlation_not_found' });
      await expect(sim.runtime.correlate(pay)).rejects.toMatchObject({ code: 'correlation_not_found' });
      const other = await sim.runtime.start({ machine: 'order', tenant: 'other', input: { orderId: 'A-1', email: 'x@other.test' } });
      const res = await sim.runtime.correlate({ ...pay, tenant: 'acme' });
      expect(res.deliveries).toEqual([expect.objectContaining({ instanceId: acme.id, value: 'paid' })]);
      expect((await sim.runtime.get(other.id, { tenant: 'other' })).value).toBe('awaitingPayment');
    });

    test('the index follows the context: a changed value moves, a cleared one goes, the end removes all', async () => {
      const sim = await createSimulation();
      const { id } = await sim.runtime.start({ machine: 'order', input: { email: 'ada@example.net' } });
      const find = (key: string, value: string) => sim.store.findCorrelated({ tenant: 'default', key, value, limit: 10 });
      // No order number yet: found by e-mail only.
      expect(await find('customer', 'ada@example.net')).toEqual([id]);
      await sim.runtime.send(id, { type: 'order.renumber', orderId: 'A-1' });
      expect(await find('order', 'A-1')).toEqual([id]);
      await sim.runtime.send(id, { type: 'order.renumber', orderId: 'A-7' });
      expect(await find('order', 'A-1')).toEqual([]);
      expect(await find('order', 'A-7')).toEqual([id]);
      await sim.runtime.send(id, { type: 'order.forget' });
      expect(await find('order', 'A-7')).toEqual([]);
      expect(await find('customer', 'ada@example.net')).toEqual([id]);
      await sim.runtime.send(id, { type: 'order.renumber', orderId: 'A-8' });
      await sim.runtime.correlate({ key: 'order', value: 'A-8', event: { type: 'payment.succeeded' } });
      await sim.runtime.send(id, { type: 'order.ship' });
      expect((await sim.runtime.get(id)).status).toBe('done');
      expect(await find('order', 'A-8')).toEqual([]);
      expect(await find('customer', 'ada@example.net')).toEqual([]);
      await expect(sim.runtime.correlate({ key: 'order', value: 'A-8', event: { type: 'order.ship' } })).rejects.toMatchObject({
        code: 'correlation_not_found',
      });
    });

    test('a stopped instance leaves the index; a value that cannot be indexed ends the transition in error', async () => {
      const sim = await createSimulation();
      const find = (value: string) => sim.store.findCorrelated({ tenant: 'default', key: 'order', value, limit: 10 });
      const stopped = await sim.runtime.start({ machine: 'order', input: { orderId: 'S-1', email: 's@example.net' } });
      await sim.runtime.stopInstance(stopped.id, 'withdrawn');
      expect(await find('S-1')).toEqual([]);
      const { id } = await sim.runtime.start({ machine: 'order', input: { orderId: 'L-1', email: 'l@example.net' } });
      await sim.runtime.send(id, { type: 'order.renumber', orderId: 'L'.repeat(300) });
      const failed = await sim.runtime.get(id);
      expect(failed.status).toBe('error');
      expect(failed.error).toMatchObject({ code: 'invalid_correlation_value', message: expect.stringContaining('"order"') });
      expect(await find('L-1')).toEqual([]);
    });

    test('a migration to a version reading other keys replaces the index rows in its commit', async () => {
      const sim = await createSimulation();
      const { id } = await sim.runtime.start({ machine: 'order@1', input: { orderId: 'A-1', email: 'ada@example.net' } });
      const correlation = { order: (ctx: OrderContext) => (ctx.orderId ? `ORD-${ctx.orderId}` : null) };
      sim.runtime.register(order, { version: '2', correlation });
      sim.runtime.registerMigration({ machine: 'order', from: '1', to: '2', stateMap: {} });
      await sim.runtime.migrateInstance(id, { to: '2', dryRun: false, reason: 'new order numbers' });
      const find = (key: string, value: string) => sim.store.findCorrelated({ tenant: 'default', key, value, limit: 10 });
      expect(await find('order', 'A-1')).toEqual([]);
      expect(await find('customer', 'ada@example.net')).toEqual([]);
      expect(await find('order', 'ORD-A-1')).toEqual([id]);
    });

    test('the bundled subscriber provisioning is found by username: an operator resolves the stuck one', async () => {
      const prepared = await preparedLab(subscriberProvisioning);
      const sim = await seedSimulation(prepared.lab, { store: await makeStore() });
      const steps = subscriberProvisioning.steps;
      prepared.lab.faults.inject({ ...steps.at(-1)!.action, mode: 'fail' });
      prepared.lab.faults.inject({ ...steps[2]!.compensation!, mode: 'fail' });
      const { id } = await sim.runtime.start({ machine: 'subscriber-provisioning', input: fullProvisioningInput('ada') });
      const bob = fullProvisioningInput('bob');
      const other = await sim.runtime.start({
        machine: 'subscriber-provisioning',
        input: { ...bob, onu: { ...bob.onu, serialNumber: 'ALCLf0e1d2c4' }, cpe: { deviceId: 'cpe-0002' } },
      });
      expect((await runUntilResting(sim, id)).tags).toEqual(['compensation_failed']);
      // Bob's waits the same way: the username tells the two apart.
      expect((await runUntilResting(sim, other.id)).tags).toEqual(['compensation_failed']);
      const operator = { id: 'op-7', roles: ['operator'] };
      const res = await sim.runtime.correlate({
        machine: 'subscriber-provisioning',
        key: 'username',
        value: 'ada',
        event: { type: 'operator.resolve', reason: 'removed by hand, ticket 4711' },
        caller: operator,
      });
      expect(res.deliveries).toEqual([expect.objectContaining({ instanceId: id, handled: true })]);
      // The earlier steps are compensated; rolled back, it is found no more.
      expect((await runUntilResting(sim, id)).status).toBe('done');
      expect((await sim.runtime.history(other.id)).some((e) => e.type === 'operator.resolve')).toBe(false);
      await expect(
        sim.runtime.correlate({ key: 'username', value: 'ada', event: { type: 'operator.resolve', reason: 'again' }, caller: operator }),
      ).rejects.toMatchObject({ code: 'correlation_not_found' });
    });
  });
}
