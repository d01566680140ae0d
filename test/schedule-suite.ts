import { describe, expect, test } from 'vitest';
import { setup } from 'xstate';
import { z } from 'zod';
import type { InstanceStore } from '../runtime/ports.ts';
import type { ScheduleDefinition } from '../runtime/schedule-spec.ts';
import { createSimulation as createSim, type SimulationOptions } from '../runtime/testing/index.ts';

const HOUR = 3_600_000;
const T0 = Date.parse('2030-01-01T00:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

/** Runs until `finish`: an instance the next tick overlaps with. */
export const job = setup({
  types: { input: {} as { tick?: string; period?: string } | null, events: {} as { type: 'finish' } },
}).createMachine({
  id: 'job',
  context: ({ input }) => ({ tick: input?.tick ?? null, period: input?.period ?? null }),
  initial: 'running',
  states: { running: { on: { finish: 'done' } }, done: { type: 'final' } },
});

/** Finished as soon as started. */
export const quick = setup({}).createMachine({ id: 'quick', initial: 'done', states: { done: { type: 'final' } } });

const machines: SimulationOptions['machines'] = [
  { machine: job, options: { version: '1', inputSchema: z.object({ tick: z.string().optional(), period: z.string() }).nullable() } },
  { machine: quick, options: { version: '1' } },
];

/**
 * Schedules on every store, under a simulated clock: run by `runtime/schedules.test.ts` (memory) and
 * `test/schedules.pg.test.ts` (Postgres).
 */
export function scheduleSuite(name: string, makeStore: () => Promise<InstanceStore>) {
  const simulate = async (o: Omit<SimulationOptions, 'machines'> = {}) =>
    createSim({ machines, ...o, store: o.store ?? (await makeStore()) });
  const keysOf = async (store: InstanceStore, id: string, ticks: number[]) =>
    Promise.all(ticks.map(async (t) => (await store.getByIdempotencyKey('default', `schedule:${id}:${iso(t)}`))?.id ?? null));
  const count = async (sim: { runtime: { list(o: object): Promise<{ items: unknown[] }> } }, machine: string) =>
    (await sim.runtime.list({ machineId: machine, limit: 500 })).items.length;

  describe(`schedules on ${name}`, () => {
    test('each tick starts exactly one instance under the key schedule:{id}:{tickISO}, with its input rendered', async () => {
      const sim = await simulate();
      await sim.runtime.schedules.define({ id: 'q', machine: 'quick', cron: '*/15 * * * *', input: { at: '{{tick}}' }, overlap: 'allow' });
      await sim.advance(HOUR);
      const ticks = [1, 2, 3, 4].map((i) => T0 + i * 15 * 60_000);
      const ids = await keysOf(sim.store, 'q', ticks);
      expect(ids.every(Boolean)).toBe(true);
      expect(await count(sim, 'quick')).toBe(4);
      const first = await sim.store.get(ids[0]!);
      expect(first?.status).toBe('done');
      // Time standing still runs nothing again.
      await sim.advance(0);
      expect(await count(sim, 'quick')).toBe(4);
      const view = await sim.runtime.schedules.get('q');
      expect(view.nextTicks.slice(0, 2)).toEqual([iso(T0 + 75 * 60_000), iso(T0 + 90 * 60_000)]);
      expect(view).toMatchObject({ lastTick: iso(ticks[3]!), lastInstanceId: ids[3], lastOutcome: 'started', origin: 'code' });
      await sim.runtime.close();
    });

    test('a time zone and the month placeholders: the billing tick of 1 February in Berlin bills January', async () => {
      const sim = await simulate();
      const def = {
        id: 'monthly',
        machine: 'job',
        cron: '0 2 1 * *',
        timezone: 'Europe/Berlin',
        input: { period: '{{tick.previousMonth}}' },
        overlap: 'allow' as const,
      };
      const view = await sim.runtime.schedules.define(def);
      // 02:00 in Berlin is 01:00 UTC in winter, 00:00 UTC in summer.
      expect(view.nextTicks).toEqual([
        '2030-01-01T01:00:00.000Z',
        '2030-02-01T01:00:00.000Z',
        '2030-03-01T01:00:00.000Z',
        '2030-04-01T00:00:00.000Z',
        '2030-05-01T00:00:00.000Z',
      ]);
      await sim.advance(32 * 24 * HOUR);
      const [jan, feb] = await keysOf(sim.store, 'monthly', [Date.parse('2030-01-01T01:00:00Z'), Date.parse('2030-02-01T01:00:00Z')]);
      expect((await sim.runtime.get(jan!)).context).toMatchObject({ period: '2029-12' });
      expect((await sim.runtime.get(feb!)).context).toMatchObject({ period: '2030-01' });
      await sim.runtime.close();
    });

    test('catch-up after a downtime: none runs only the latest missed tick, all runs every one in order', async () => {
      const store = await makeStore();
      const first = await simulate({ store });
      await first.runtime.schedules.define({ id: 'latest', machine: 'quick', cron: '0 * * * *', overlap: 'allow' });
      await first.runtime.schedules.define({ id: 'every', machine: 'quick', cron: '0 * * * *', overlap: 'allow', catchUp: 'all' });
      await first.advance(HOUR);
      await first.runtime.close();
      // No process runs from 01:00 to 05:30.
      const second = await simulate({ store, startTime: new Date(T0 + 5.5 * HOUR) });
      await second.settle();
      const hours = [1, 2, 3, 4, 5].map((h) => T0 + h * HOUR);
      expect((await keysOf(store, 'latest', hours)).map(Boolean)).toEqual([true, false, false, false, true]);
      const every = await keysOf(store, 'every', hours);
      expect(every.every(Boolean)).toBe(true);
      const created = await Promise.all(every.map(async (id) => (await store.get(id!))!.createdAt.getTime()));
      expect([...created].sort()).toEqual(created);
      expect((await second.runtime.schedules.get('every')).nextTicks[0]).toBe(iso(T0 + 6 * HOUR));
      await second.runtime.close();
    });

    test('catch-up all is bounded: after a long downtime only the latest 100 ticks run', async () => {
      const store = await makeStore();
      const first = await simulate({ store });
      await first.runtime.schedules.define({ id: 'minutely', machine: 'quick', cron: '* * * * *', overlap: 'allow', catchUp: 'all' });
      await first.runtime.close();
      const second = await simulate({ store, startTime: new Date(T0 + 3 * HOUR) });
      await second.settle();
      expect(await count(second, 'quick')).toBe(100);
      const edges = await keysOf(store, 'minutely', [T0 + 3 * HOUR - 100 * 60_000, T0 + 3 * HOUR - 99 * 60_000, T0 + 3 * HOUR]);
      expect(edges.map(Boolean)).toEqual([false, true, true]);
      await second.runtime.close();
    });

    test('overlap skip: a tick while the previous instance runs starts nothing; after it finishes the next tick starts', async () => {
      const sim = await simulate();
      await sim.runtime.schedules.define({ id: 's', machine: 'job', cron: '0 * * * *' });
      await sim.advance(HOUR);
      const [a] = await keysOf(sim.store, 's', [T0 + HOUR]);
      await sim.advance(HOUR);
      expect(await count(sim, 'job')).toBe(1);
      expect(await sim.runtime.schedules.get('s')).toMatchObject({
        lastOutcome: 'skipped',
        lastInstanceId: a,
        lastTick: iso(T0 + 2 * HOUR),
      });
      await sim.runtime.send(a!, { type: 'finish' });
      await sim.advance(HOUR);
      const [b] = await keysOf(sim.store, 's', [T0 + 3 * HOUR]);
      expect(b).toBeTruthy();
      expect(await count(sim, 'job')).toBe(2);
      await sim.runtime.close();
    });

    test('overlap cancel-previous stops the running instance and starts the new one; allow lets both run', async () => {
      const sim = await simulate();
      await sim.runtime.schedules.define({ id: 'c', machine: 'job', cron: '0 * * * *', overlap: 'cancel-previous' });
      await sim.runtime.schedules.define({ id: 'a', machine: 'job', cron: '30 * * * *', overlap: 'allow' });
      await sim.advance(2 * HOUR);
      const [c1, c2] = await keysOf(sim.store, 'c', [T0 + HOUR, T0 + 2 * HOUR]);
      expect((await sim.runtime.get(c1!)).status).toBe('stopped');
      expect((await sim.runtime.get(c2!)).status).toBe('active');
      const [a1, a2] = await keysOf(sim.store, 'a', [T0 + 0.5 * HOUR, T0 + 1.5 * HOUR]);
      expect([(await sim.runtime.get(a1!)).status, (await sim.runtime.get(a2!)).status]).toEqual(['active', 'active']);
      await sim.runtime.close();
    });

    test('pause runs no tick; resume goes on from now without the missed ticks; trigger runs one now under the policy', async () => {
      const sim = await simulate();
      await sim.runtime.schedules.define({ id: 'p', machine: 'job', cron: '0 * * * *', catchUp: 'all' });
      const paused = await sim.runtime.schedules.pause('p');
      expect(paused).toMatchObject({ paused: true, nextTicks: [] });
      await sim.advance(3 * HOUR);
      expect(await count(sim, 'job')).toBe(0);
      const resumed = await sim.runtime.schedules.resume('p');
      expect(resumed.nextTicks[0]).toBe(iso(T0 + 4 * HOUR));
      await sim.advance(0.5 * HOUR);
      expect(await count(sim, 'job')).toBe(0);
      const fired = await sim.runtime.schedules.trigger('p');
      expect(fired).toMatchObject({ outcome: 'started', created: true });
      const id = fired.outcome === 'started' ? fired.instanceId : '';
      expect((await sim.store.get(id))?.idempotencyKey).toBe(`schedule:p:${iso(T0 + 3.5 * HOUR)}`);
      expect((await sim.runtime.schedules.get('p')).nextTicks[0]).toBe(iso(T0 + 4 * HOUR));
      // The same instant is the same tick: the same instance.
      expect(await sim.runtime.schedules.trigger('p')).toEqual({ outcome: 'started', instanceId: id, created: false });
      // The triggered instance still runs: under skip, a later trigger and the 04:00 tick start nothing.
      await sim.advance(60_000);
      expect(await sim.runtime.schedules.trigger('p')).toEqual({ outcome: 'skipped', previousInstanceId: id });
      await sim.advance(0.5 * HOUR);
      expect(await count(sim, 'job')).toBe(1);
      expect(await sim.runtime.schedules.get('p')).toMatchObject({ lastOutcome: 'skipped', lastTick: iso(T0 + 4 * HOUR) });
      await sim.runtime.close();
    });

    test('define is idempotent: the same definition keeps its state and pause, a new expression restarts its ticks', async () => {
      const sim = await simulate();
      const def: ScheduleDefinition = { id: 'd', machine: 'quick', cron: '0 0 * * *' };
      await sim.runtime.schedules.define(def);
      await sim.runtime.schedules.pause('d');
      await sim.advance(2 * HOUR);
      expect(await sim.runtime.schedules.define(def)).toMatchObject({ paused: true, origin: 'code' });
      await sim.runtime.schedules.resume('d');
      const changed = await sim.runtime.schedules.define({ ...def, cron: '0 */6 * * *' });
      expect(changed.nextTicks[0]).toBe(iso(T0 + 6 * HOUR));
      await sim.runtime.close();
    });

    test('bad definitions are refused with their codes and store nothing', async () => {
      const sim = await simulate();
      const refuse = async (patch: Partial<ScheduleDefinition>) =>
        sim.runtime.schedules.create({ id: 'bad', machine: 'quick', cron: '0 * * * *', ...patch } as ScheduleDefinition).then(
          () => 'created',
          (e) => e.code,
        );
      expect(await refuse({ cron: 'every monday' })).toBe('cron_invalid');
      expect(await refuse({ cron: '61 * * * *' })).toBe('cron_invalid');
      expect(await refuse({ cron: '0 0 31 2 *' })).toBe('cron_invalid');
      expect(await refuse({ cron: '*/5 * * * * *' })).toBe('cron_invalid');
      expect(await refuse({ timezone: 'Mars/Olympus_Mons' })).toBe('timezone_invalid');
      expect(await refuse({ machine: 'nope' })).toBe('machine_not_found');
      expect(await refuse({ machine: 'job', input: { tick: '{{tick}}' } })).toBe('input_invalid');
      expect(await refuse({ input: { at: '{{tick.year}}' } })).toBe('invalid_argument');
      expect(await refuse({ id: 'with space' })).toBe('invalid_argument');
      expect(await refuse({ overlap: 'queue' as never })).toBe('invalid_argument');
      expect(await sim.runtime.schedules.list()).toEqual([]);
      await sim.runtime.schedules.create({ id: 'ok', machine: 'quick', cron: '@daily', timezone: 'America/New_York' });
      expect(await sim.runtime.schedules.create({ id: 'ok', machine: 'quick', cron: '@hourly' }).catch((e) => e.code)).toBe(
        'schedule_exists',
      );
      expect(await sim.runtime.schedules.get('ok', { tenant: 'other' }).catch((e) => e.code)).toBe('schedule_not_found');
      await sim.runtime.schedules.delete('ok');
      expect(await sim.runtime.schedules.get('ok').catch((e) => e.code)).toBe('schedule_not_found');
      await sim.runtime.close();
    });
  });
}
