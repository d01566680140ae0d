import { describe, expect, test } from 'vitest';
import { emitter } from '../../test/fixtures/emitter.machine.ts';
import { createSimulation } from '../testing/index.ts';
import type { OutboxMessage } from './outbox-dispatcher.ts';

const machines = [{ machine: emitter, options: { version: '1' } }];
const go = (kind: string, n: number, twice = false) => ({ type: 'go', kind, n, twice });

/** In-process subscribers in simulation mode: the memory store follows the rules of the Postgres one. */
describe('outbox delivery to in-process subscribers (simulation)', () => {
  test('every row reaches a subscriber once, in order per instance; rows of other types are filtered out', async () => {
    const sim = await createSimulation({ machines });
    const seen: OutboxMessage[] = [];
    await sim.runtime.outbox.subscribe('orders', { eventTypes: ['order.*'] }, (m) => void seen.push(m));
    const a = await sim.runtime.start({ machine: 'emitter' });
    const b = await sim.runtime.start({ machine: 'emitter' });
    for (let n = 1; n <= 3; n++) {
      await sim.runtime.send(a.id, go('order.step', n, true));
      await sim.runtime.send(b.id, go('order.step', n));
      await sim.runtime.send(b.id, go('invoice.sent', n));
    }
    await sim.settle();
    const of = (id: string) => seen.filter((m) => m.instanceId === id).map((m) => (m.payload as { n: number }).n);
    expect(of(a.id)).toEqual([1, 1.5, 2, 2.5, 3, 3.5]);
    expect(of(b.id)).toEqual([1, 2, 3]);
    expect(new Set(seen.map((m) => m.type))).toEqual(new Set(['order.step']));
    const { items } = await sim.runtime.outbox.deliveries({ tenant: 'default', status: ['delivered'] });
    expect(items).toHaveLength(9);
    expect(items.every((d) => d.attempts === 1 && d.deliveredAt)).toBe(true);
    await sim.runtime.close();
  });

  test('a failing handler is retried with back-off; after the last attempt the row is dead and the next one goes', async () => {
    const sim = await createSimulation({ machines, outbox: { maxAttempts: 3, backoffMs: 1000, random: () => 1 } });
    const calls: { n: number; attempt: number; at: number }[] = [];
    await sim.runtime.outbox.subscribe('picky', {}, (m, ctx) => {
      const n = (m.payload as { n: number }).n;
      calls.push({ n, attempt: ctx.attempt, at: sim.clock.now().getTime() });
      if (n === 1) throw new Error('receiver refuses 1');
    });
    const { id } = await sim.runtime.start({ machine: 'emitter' });
    await sim.runtime.send(id, go('x', 1));
    await sim.runtime.send(id, go('x', 2));
    await sim.settle();
    // Row 2 waits behind row 1 while row 1 is retried.
    expect(calls.map((c) => c.n)).toEqual([1]);
    await sim.advance(1000);
    expect(calls.map((c) => [c.n, c.attempt])).toEqual([
      [1, 1],
      [1, 2],
    ]);
    await sim.advance(2000);
    // Third attempt failed: dead-lettered, and row 2 is delivered right after.
    expect(calls.map((c) => [c.n, c.attempt])).toEqual([
      [1, 1],
      [1, 2],
      [1, 3],
      [2, 1],
    ]);
    // Back-off doubles: 1 s, then 2 s (jitter at its maximum).
    expect(calls[1]!.at - calls[0]!.at).toBe(1000);
    expect(calls[2]!.at - calls[1]!.at).toBe(2000);
    const [dead] = (await sim.runtime.outbox.deliveries({ tenant: 'default', status: ['dead'] })).items;
    expect(dead).toMatchObject({ attempts: 3, status: 'dead', lastError: 'Error: receiver refuses 1', instanceId: id });

    // Redelivery: pending again with fresh attempts; it fails three more times here.
    const again = await sim.runtime.outbox.redeliver(dead!.id, { tenant: 'default' });
    expect(again).toMatchObject({ status: 'pending', attempts: 0 });
    await sim.settle();
    expect(calls.at(-1)).toMatchObject({ n: 1, attempt: 1 });
    await expect(sim.runtime.outbox.redeliver(dead!.id, { tenant: 'default' })).rejects.toMatchObject({ code: 'delivery_not_ended' });
    await expect(sim.runtime.outbox.redeliver(dead!.id, { tenant: 'acme' })).rejects.toMatchObject({ code: 'delivery_not_found' });
    await sim.runtime.close();
  });

  test('rows committed while no process handles a subscription wait for one', async () => {
    const sim = await createSimulation({ machines });
    const stop = await sim.runtime.outbox.subscribe('late', {}, () => {});
    stop();
    const { id } = await sim.runtime.start({ machine: 'emitter' });
    await sim.runtime.send(id, go('x', 1));
    await sim.settle();
    const pending = await sim.runtime.outbox.deliveries({ tenant: 'default', status: ['pending'] });
    expect(pending.items).toHaveLength(1);
    const seen: number[] = [];
    await sim.runtime.outbox.subscribe('late', {}, (m) => void seen.push((m.payload as { n: number }).n));
    await sim.settle();
    expect(seen).toEqual([1]);
    await sim.runtime.close();
  });

  test('subscriber names and filters are checked', async () => {
    const sim = await createSimulation({ machines });
    await expect(sim.runtime.outbox.subscribe('bad name', {}, () => {})).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(sim.runtime.outbox.subscribe('ok', { eventTypes: ['order*'] }, () => {})).rejects.toMatchObject({
      code: 'invalid_argument',
    });
    await expect(sim.runtime.outbox.subscribe('ok', { eventTypes: [] }, () => {})).rejects.toMatchObject({ code: 'invalid_argument' });
    await sim.runtime.close();
  });
});
