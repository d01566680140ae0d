import { type AnyStateMachine, setup } from 'xstate';
import { describe, expect, test } from 'vitest';
import { observeChanges } from '../observability/changes.ts';
import { createMetrics } from '../observability/metrics.ts';
import { MemoryStore } from '../runtime/memory-store.ts';
import type { InstanceStore } from '../runtime/ports.ts';
import { createSimulation } from '../runtime/testing/index.ts';
import { pgStoreFactory } from './support/pg-store.ts';
import { parseScrape } from './support/prometheus.ts';

/**
 * Quarantine: an instance whose snapshot the registered machine cannot
 * restore, or whose transition failed, is set aside in `error` (visible in
 * the API and the metrics) without stopping the runtime from starting or
 * serving others; an operator retry after a fix brings it back.
 */

const shipping = { after: { 5000: 'delivered' } };
const order = (states: Record<string, unknown>): AnyStateMachine =>
  setup({}).createMachine({
    id: 'q-order',
    initial: 'placed',
    states: { placed: { on: { ship: Object.keys(states)[0]! } }, ...states, delivered: { type: 'final' } } as never,
  }) as unknown as AnyStateMachine;
const v1 = order({ shipping });
// A deploy renamed a state under the same version: stored snapshots in `shipping` no longer fit.
const broken = order({ in_transit: shipping });

const makeStore = pgStoreFactory();

describe('a poison instance on PostgreSQL', () => {
  test('is quarantined at start-up, never stops the runtime or others, and an operator retry after a fix brings it back', async () => {
    const store = await makeStore();
    let sim = await createSimulation({ machines: [{ machine: v1, options: { version: '1' } }], store });
    const poison = await sim.runtime.start({ machine: 'q-order' });
    await sim.runtime.send(poison.id, { type: 'ship' });
    const healthy = await sim.runtime.start({ machine: 'q-order' });
    const now = sim.clock.now();
    await sim.runtime.close();

    // A new process with the broken definition starts: its timer comes due, the restore fails.
    sim = await createSimulation({ machines: [{ machine: broken, options: { version: '1' } }], store, startTime: now });
    const metrics = createMetrics();
    observeChanges(sim.runtime, metrics.observer);
    await sim.advance(5000);
    const quarantined = await sim.runtime.get(poison.id);
    expect(quarantined).toMatchObject({
      status: 'error',
      value: 'shipping',
      error: { code: 'incompatible_snapshot', quarantine: 'restore_failed' },
    });
    expect((await sim.runtime.list({ status: ['error'] })).items.map((i) => i.id)).toEqual([poison.id]);
    expect((await sim.runtime.history(poison.id)).at(-1)).toMatchObject({ type: 'statekeeper.quarantine', source: 'system' });
    // The timer that touched it stays open (not run) for a retry.
    expect((await sim.runtime.effects(poison.id)).map((e) => [e.kind, e.status])).toEqual([['timer', 'pending']]);
    await sim.settle();
    expect(
      parseScrape(await metrics.render()).value('statekeeper_instances_failed_total', {
        machine: 'q-order',
        code: 'incompatible_snapshot',
      }),
    ).toBe(1);

    // Others are served.
    await sim.runtime.send(healthy.id, { type: 'ship' });
    expect((await sim.runtime.get(healthy.id)).value).toBe('in_transit');

    // A retry before the fix changes nothing.
    await expect(sim.runtime.retry(poison.id)).rejects.toMatchObject({ code: 'incompatible_snapshot' });
    expect((await sim.runtime.get(poison.id)).status).toBe('error');

    // The fix: a version that has the state again. The retry restores it with that version; its timer fires.
    sim.runtime.register(v1.provide({}), { version: '2' });
    const retried = await sim.runtime.retry(poison.id);
    expect(retried).toMatchObject({ status: 'active', value: 'shipping', handled: true });
    expect((await sim.runtime.get(poison.id)).machine).toEqual({ id: 'q-order', version: '2' });
    await sim.advance(5000);
    expect(await sim.runtime.get(poison.id)).toMatchObject({ status: 'done', value: 'delivered' });
    await sim.runtime.close();
  });
});

const stores: [string, () => Promise<InstanceStore>][] = [
  ['simulation', async () => new MemoryStore()],
  ['PostgreSQL', makeStore],
];

describe.each(stores)('a transition that failed (%s)', (_name, newStore) => {
  test('an operator retry after a fix re-applies the failed event with the fixed machine', async () => {
    const guarded = (guard: (args: { event: { amount?: unknown } }) => boolean) =>
      setup({}).createMachine({
        id: 'q-guarded',
        initial: 'open',
        states: { open: { on: { pay: { guard: guard as never, target: 'paid' } } }, paid: { type: 'final' } },
      });
    const throwing = guarded(({ event }) => {
      if (typeof event.amount !== 'object') throw new TypeError('amount.value is not readable');
      return true;
    });
    const sim = await createSimulation({ machines: [{ machine: throwing, options: { version: '1' } }], store: await newStore() });
    const { id } = await sim.runtime.start({ machine: 'q-guarded' });
    await sim.runtime.send(id, { type: 'pay', amount: 5 });
    expect(await sim.runtime.get(id)).toMatchObject({
      status: 'error',
      value: 'open',
      error: { message: expect.stringContaining('amount.value is not readable') },
    });
    // Nothing else reaches it while it is in error.
    await expect(sim.runtime.send(id, { type: 'pay', amount: 6 })).rejects.toMatchObject({ code: 'instance_not_active' });

    sim.runtime.register(
      guarded(({ event }) => Number(event.amount) > 0),
      { version: '2' },
    );
    const retried = await sim.runtime.retry(id);
    expect(retried).toMatchObject({ status: 'done', value: 'paid', handled: true });
    const types = (await sim.runtime.history(id)).map((e) => e.type);
    expect(types).toEqual(['xstate.init', 'pay', 'statekeeper.revive', 'pay']);
    await sim.runtime.close();
  });
});
