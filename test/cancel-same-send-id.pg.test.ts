import { assign, cancel, raise, setup } from 'xstate';
import { describe, expect, test } from 'vitest';
import { MemoryStore } from '../runtime/memory-store.ts';
import type { InstanceStore } from '../runtime/ports.ts';
import { createSimulation } from '../runtime/testing/index.ts';
import { pgStoreFactory } from './support/pg-store.ts';

/**
 * Regression: `cancel(id)` with two pending timers of that id cancelled both. XState's scheduler holds only the
 * newest timer under an id, so `cancel` cancels that one and the older still fires; once a timer of the id has
 * fired, the id is free and `cancel` cancels nothing. The rows say which timer holds the id (`keyed`).
 */

const ring = (n: string, delay: number) => raise({ type: 'ring', n } as never, { id: 'bell', delay });
const bell = setup({}).createMachine({
  id: 'bell',
  context: { rang: [] as string[] },
  on: {
    early: { actions: ring('early', 1000) },
    late: { actions: ring('late', 3000) },
    quick: { actions: ring('quick', 200) },
    silence: { actions: cancel('bell') },
    twice: { actions: [ring('first', 500), ring('second', 500)] },
    ring: { actions: assign({ rang: ({ context, event }) => [...context.rang, (event as unknown as { n: string }).n] }) },
  },
});

const makeStore = pgStoreFactory();
const stores: [string, () => Promise<InstanceStore>][] = [
  ['simulation', async () => new MemoryStore()],
  ['PostgreSQL', makeStore],
];

describe.each(stores)('cancel of a send id scheduled twice (%s)', (_name, newStore) => {
  const open = async (store: InstanceStore, startTime?: Date) =>
    createSimulation({ machines: [{ machine: bell, options: { version: '1' } }], store, startTime });
  const rows = async (sim: Awaited<ReturnType<typeof open>>, id: string) =>
    (await sim.runtime.effects(id)).map((e) => [(e.event as { n: string }).n, e.status, e.keyed]);

  test('cancels only the newer timer; the older still fires, across a restart', async () => {
    const store = await newStore();
    let sim = await open(store);
    const { id } = await sim.runtime.start({ machine: 'bell' });
    await sim.runtime.send(id, { type: 'early' });
    await sim.runtime.send(id, { type: 'late' });
    expect(await rows(sim, id)).toEqual([
      ['early', 'pending', false],
      ['late', 'pending', true],
    ]);
    // The cancel comes to a new process: what holds the id is on the rows, not in memory.
    const now = sim.clock.now();
    await sim.runtime.close();
    sim = await open(store, now);
    await sim.runtime.send(id, { type: 'silence' });
    expect(await rows(sim, id)).toEqual([
      ['early', 'pending', false],
      ['late', 'cancelled', false],
    ]);
    await sim.advance(3000);
    expect((await sim.runtime.get(id)).context).toEqual({ rang: ['early'] });
    await sim.runtime.close();
  });

  test('an instance migration that drops a send id cancels every open timer of it, held or not', async () => {
    const sim = await open(await newStore());
    const { id } = await sim.runtime.start({ machine: 'bell' });
    await sim.runtime.send(id, { type: 'early' });
    await sim.runtime.send(id, { type: 'late' });
    // No state of the target defines the timers (they were scheduled by transitions): both are dropped by row.
    sim.runtime.register(bell, { version: '2' });
    const report = await sim.runtime.migrateInstance(id, { to: '2', dryRun: false });
    expect(report.effects.cancelled.map((e) => e.id).sort()).toEqual((await sim.runtime.effects(id)).map((e) => e.id).sort());
    expect((await rows(sim, id)).map(([, status]) => status)).toEqual(['cancelled', 'cancelled']);
    await sim.advance(3000);
    expect((await sim.runtime.get(id)).context).toEqual({ rang: [] });
    await sim.runtime.close();
  });

  test('two timers of one id in one transition are two rows, also in a fork replayed from history', async () => {
    const sim = await open(await newStore());
    const { id } = await sim.runtime.start({ machine: 'bell' });
    await sim.runtime.send(id, { type: 'early' });
    await sim.runtime.send(id, { type: 'twice' });
    expect(await rows(sim, id)).toEqual([
      ['early', 'pending', false],
      ['first', 'pending', false],
      ['second', 'pending', true],
    ]);
    const fork = await sim.runtime.forkInstance(id, { seq: 3 });
    expect(await rows(sim, fork.id)).toEqual([
      ['early', 'pending', false],
      ['first', 'pending', false],
      ['second', 'pending', true],
    ]);
    for (const i of [id, fork.id]) await sim.runtime.send(i, { type: 'silence' });
    await sim.advance(1000);
    for (const i of [id, fork.id]) expect((await sim.runtime.get(i)).context).toEqual({ rang: ['first', 'early'] });
    await sim.runtime.close();
  });

  test('after a timer of the id fired, cancels nothing', async () => {
    const sim = await open(await newStore());
    const { id } = await sim.runtime.start({ machine: 'bell' });
    await sim.runtime.send(id, { type: 'quick' });
    await sim.runtime.send(id, { type: 'late' });
    await sim.advance(200);
    expect(await rows(sim, id)).toEqual([
      ['quick', 'done', false],
      ['late', 'pending', false],
    ]);
    await sim.runtime.send(id, { type: 'silence' });
    await sim.advance(3000);
    expect((await sim.runtime.get(id)).context).toEqual({ rang: ['quick', 'late'] });
    await sim.runtime.close();
  });
});
