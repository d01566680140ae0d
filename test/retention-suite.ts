import { describe, expect, test } from 'vitest';
import { setup } from 'xstate';
import type { InstanceStore } from '../runtime/ports.ts';
import { createSimulation as createSim, type SimulationOptions } from '../runtime/testing/index.ts';
import { childFlow } from './fixtures/machines.ts';

const DAY = 86_400_000;

const waiting = (id: string) =>
  setup({ types: { events: {} as { type: 'finish' } } }).createMachine({
    id,
    initial: 'running',
    states: { running: { on: { finish: 'done' } }, done: { type: 'final' } },
  });

/** A parent that stays active after its child finished, until `finish`. */
const family = setup({ actors: { childFlow }, types: { events: {} as { type: 'finish' } } }).createMachine({
  id: 'family',
  initial: 'raising',
  states: {
    raising: { invoke: { id: 'kid', src: 'childFlow', input: { label: 'k' }, onDone: 'grown' } },
    grown: { on: { finish: 'done' } },
    done: { type: 'final' },
  },
});

const machines: SimulationOptions['machines'] = [
  // Kept a week, deleted.
  { machine: waiting('short'), options: { version: '1', retention: { days: 7 } } },
  // Without a policy: the default (30 days, archive).
  { machine: waiting('plain'), options: { version: '1' } },
  // Kept forever, whatever the default.
  { machine: waiting('forever'), options: { version: '1', retention: false } },
  { machine: family, options: { version: '1', retention: { days: 1 } } },
];

/**
 * Retention on every store: run by `runtime/retention.test.ts` (memory) and `test/retention.pg.test.ts` (Postgres).
 * `archived` counts the archived instances of a store.
 */
export function retentionSuite(name: string, makeStore: () => Promise<InstanceStore>, archived: (s: InstanceStore) => Promise<number>) {
  const simulate = async (o: Omit<SimulationOptions, 'machines'> = {}) =>
    createSim({ machines, retention: { default: { days: 30, mode: 'archive' } }, ...o, store: o.store ?? (await makeStore()) });

  describe(`retention on ${name}`, () => {
    test('only finished instances older than their machine’s policy go, with history and effects; a dry run changes nothing', async () => {
      const sim = await simulate();
      const { runtime } = sim;
      const start = async (machine: string, finish = true, tenant?: string) => {
        const { id } = await runtime.start({ machine, tenant });
        if (finish) await runtime.send(id, { type: 'finish' }, { tenant });
        return id;
      };
      const oldShort = await start('short');
      const running = await start('short', false);
      const oldPlain = await start('plain');
      const kept = await start('forever');
      await sim.advance(8 * DAY);
      const newShort = await start('short');

      const dry = await runtime.retention.run({ dryRun: true });
      expect(dry).toMatchObject({ dryRun: true, batches: 0, totals: { instances: 1, events: 2, effects: 0 } });
      expect(await sim.store.get(oldShort)).toBeDefined();
      const done = await runtime.retention.run();
      expect(done.totals).toEqual(dry.totals);
      expect(done.rules.map((r) => [r.machines, r.days, r.mode, r.counts.instances])).toEqual([
        [['short'], 7, 'delete', 1],
        [['family'], 1, 'delete', 0],
        [null, 30, 'archive', 0],
      ]);
      expect(await sim.store.get(oldShort)).toBeUndefined();
      expect(await sim.store.history(oldShort, 0, 10)).toEqual([]);
      for (const id of [running, oldPlain, kept, newShort]) expect(await sim.store.get(id), id).toBeDefined();

      await sim.advance(23 * DAY);
      const later = await runtime.retention.run();
      expect(later.totals.instances).toBe(2);
      expect(await sim.store.get(oldPlain)).toBeUndefined();
      expect(await sim.store.get(newShort)).toBeUndefined();
      expect(await archived(sim.store)).toBe(1);
      // Never an active instance, never one of a machine kept forever.
      expect((await sim.store.get(running))?.status).toBe('active');
      expect(await sim.store.get(kept)).toBeDefined();
      await runtime.close();
    });

    test('batches: each holds at most batchSize instances, one transaction each, until a short one', async () => {
      const sim = await simulate({ retention: { default: { days: 1 }, batchSize: 2 } });
      for (let i = 0; i < 5; i++) {
        const { id } = await sim.runtime.start({ machine: 'plain' });
        await sim.runtime.send(id, { type: 'finish' });
      }
      await sim.advance(2 * DAY);
      const r = await sim.runtime.retention.run();
      const rule = r.rules.find((x) => x.machines === null)!;
      expect([rule.batches, rule.counts.instances, r.totals.instances]).toEqual([3, 5, 5]);
      expect((await sim.runtime.list({ machineId: 'plain', limit: 10 })).items).toEqual([]);
      await sim.runtime.close();
    });

    test('a finished child stays while its parent is active; both go once the parent finished', async () => {
      const sim = await simulate();
      const { id: parent } = await sim.runtime.start({ machine: 'family' });
      await sim.settle();
      const kid = (await sim.runtime.list({ parentId: parent, limit: 5 })).items[0]!.id;
      await sim.runtime.send(kid, { type: 'go' });
      await sim.settle();
      expect((await sim.runtime.get(parent)).value).toBe('grown');
      await sim.advance(40 * DAY);
      await sim.runtime.retention.run();
      expect((await sim.store.get(kid))?.status).toBe('done');
      await sim.runtime.send(parent, { type: 'finish' });
      await sim.advance(2 * DAY);
      // The child is in the default rule (30 days, archive), the parent in its own (1 day).
      expect((await sim.runtime.retention.run()).totals.instances).toBe(2);
      expect(await sim.store.get(kid)).toBeUndefined();
      expect(await sim.store.get(parent)).toBeUndefined();
      await sim.runtime.close();
    });

    test('a run for one tenant leaves the other tenants’ instances; the periodic run works on the runtime’s clock', async () => {
      const sim = await simulate({ retention: { default: { days: 1 }, intervalMs: 3_600_000 } });
      const make = async (tenant: string) => {
        const { id } = await sim.runtime.start({ machine: 'plain', tenant });
        await sim.runtime.send(id, { type: 'finish' }, { tenant });
        return id;
      };
      const acme = await make('acme');
      const other = await make('other');
      expect((await sim.runtime.retention.run({ tenant: 'acme', dryRun: true })).totals.instances).toBe(0);
      // The hourly run takes both once they are a day old.
      await sim.advance(DAY + 2 * 3_600_000);
      expect(await sim.store.get(acme)).toBeUndefined();
      expect(await sim.store.get(other)).toBeUndefined();
      const a2 = await make('acme');
      const o2 = await make('other');
      sim.runtime.retention.stop();
      await sim.advance(2 * DAY);
      const r = await sim.runtime.retention.run({ tenant: 'acme' });
      expect([r.tenant, r.totals.instances]).toEqual(['acme', 1]);
      expect(await sim.store.get(a2)).toBeUndefined();
      expect(await sim.store.get(o2)).toBeDefined();
      await sim.runtime.close();
    });

    test('bad policies are refused when registered or configured', async () => {
      const sim = await simulate();
      const reg = (retention: unknown) => {
        try {
          sim.runtime.register(waiting(`m${Math.random().toString(36).slice(2, 8)}`), { version: '1', retention: retention as never });
          return 'registered';
        } catch (e) {
          return (e as { code: string }).code;
        }
      };
      expect(reg({ days: 0 })).toBe('invalid_argument');
      expect(reg({ days: 1.5 })).toBe('invalid_argument');
      expect(reg({ days: 3, mode: 'shred' })).toBe('invalid_argument');
      expect(reg({ days: 3, mode: 'archive' })).toBe('registered');
      await expect(simulate({ retention: { default: { days: -1 } } })).rejects.toMatchObject({ code: 'invalid_argument' });
      await sim.runtime.close();
    });
  });
}
