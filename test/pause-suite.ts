import { describe, expect, test } from 'vitest';
import { assign, setup } from 'xstate';
import { createSimulation as createSim, type SimulationOptions } from '../runtime/testing/index.ts';
import type { InstanceStore } from '../runtime/ports.ts';
import { deadline, threeSteps } from './fixtures/machines.ts';
import { eventually } from './support/poll.ts';

/** Two timers on one state that leave it in place: each appends to the log when it fires. */
const twoTimers = setup({ types: { context: {} as { log: string[] }, events: {} as { type: 'finish' } } }).createMachine({
  id: 'two-timers',
  context: { log: [] },
  initial: 'waiting',
  states: {
    waiting: {
      after: {
        1000: { actions: assign({ log: ({ context }) => [...context.log, 'first'] }) },
        2000: { actions: assign({ log: ({ context }) => [...context.log, 'second'] }) },
      },
      on: { finish: 'finished' },
    },
    finished: { type: 'final' },
  },
});

const ops = { id: 'ops:ana', roles: ['operator'] };

/**
 * Pause and resume on every store: run by `runtime/pause.test.ts` (memory) and `test/pause.pg.test.ts` (Postgres).
 */
export function pauseSuite(name: string, makeStore: () => Promise<InstanceStore>) {
  const createSimulation = async (o: SimulationOptions) => createSim({ ...o, store: await makeStore() });
  describe(`pause and resume on ${name}`, () => {
    test('pause → an event is refused with instance_paused and changes nothing → resume → the event is taken', async () => {
      const sim = await createSimulation({ machines: [{ machine: deadline, options: { version: '1' } }] });
      const { id } = await sim.runtime.start({ machine: 'deadline' });
      const paused = await sim.runtime.pauseInstance(id, { reason: 'vendor maintenance', caller: ops });
      expect(paused.paused).toBe(true);
      const before = await sim.runtime.get(id);
      const err = await sim.runtime.send(id, { type: 'poke' }).catch((e) => e);
      expect(err).toMatchObject({ code: 'instance_paused' });
      expect(err.message).toContain(id);
      expect(await sim.runtime.get(id)).toEqual(before);
      // Pausing again changes nothing.
      await sim.runtime.pauseInstance(id, { reason: 'again', caller: ops });
      expect((await sim.runtime.get(id)).version).toBe(before.version);
      const resumed = await sim.runtime.resumeInstance(id, { caller: ops });
      expect(resumed.paused).toBe(false);
      expect((await sim.runtime.send(id, { type: 'poke' })).value).toBe('poked');
      const h = await sim.runtime.history(id);
      expect(h.map((e) => [e.type, e.source, e.actor, e.payload])).toEqual([
        ['xstate.init', 'start', null, null],
        ['statekeeper.pause', 'operator', 'ops:ana', { reason: 'vendor maintenance' }],
        ['statekeeper.resume', 'operator', 'ops:ana', null],
        ['poke', 'api', null, null],
      ]);
    });

    test('timers that fall due while paused fire after the resume, not before, in due order', async () => {
      const sim = await createSimulation({ machines: [{ machine: twoTimers, options: { version: '1' } }] });
      const { id } = await sim.runtime.start({ machine: 'two-timers' });
      await sim.runtime.pauseInstance(id, { reason: 'hold' });
      await sim.advance(5000);
      const held = await sim.runtime.get(id);
      expect(held.context).toEqual({ log: [] });
      expect((await sim.runtime.effects(id)).filter((e) => e.kind === 'timer').map((e) => e.status)).toEqual(['pending', 'pending']);
      await sim.runtime.resumeInstance(id);
      await sim.settle();
      expect((await sim.runtime.get(id)).context).toEqual({ log: ['first', 'second'] });
      const types = (await sim.runtime.history(id)).map((e) => e.type);
      expect(types.slice(0, 3)).toEqual(['xstate.init', 'statekeeper.pause', 'statekeeper.resume']);
      expect(types.slice(3)).toHaveLength(2);
    });

    test('a step running at the pause finishes and its result is applied; the next step waits for the resume', async () => {
      let release!: () => void;
      const gate = new Promise<void>((r) => {
        release = r;
      });
      const calls = { a: 0, b: 0, c: 0 };
      const sim = await createSimulation({
        machines: [{ machine: threeSteps, options: { version: '1' } }],
        steps: {
          stepA: async ({ n }: { n: number }) => (calls.a++, await gate, { a: n }),
          stepB: async ({ n }: { n: number }) => (calls.b++, { b: n }),
          stepC: async ({ n }: { n: number }) => (calls.c++, { c: n }),
        },
      });
      const { id } = await sim.runtime.start({ machine: 'three-steps', input: { n: 1 } });
      await eventually(async () => calls.a === 1, 'step a to start');
      await sim.runtime.pauseInstance(id);
      release();
      await sim.runtime.waitFor(id, (v) => v.value === 'b');
      await sim.settle();
      await sim.advance(60_000);
      expect(calls).toEqual({ a: 1, b: 0, c: 0 });
      expect((await sim.runtime.get(id)).value).toBe('b');
      await sim.runtime.resumeInstance(id);
      await sim.runtime.waitFor(id, (v) => v.status === 'done');
      expect(calls).toEqual({ a: 1, b: 1, c: 1 });
    });

    test('pausing a finished instance is refused with instance_not_active; resume of a running one changes nothing', async () => {
      const sim = await createSimulation({ machines: [{ machine: deadline, options: { version: '1' } }] });
      const { id } = await sim.runtime.start({ machine: 'deadline' });
      const v = (await sim.runtime.resumeInstance(id)).version;
      expect(v).toBe(1);
      await sim.runtime.send(id, { type: 'poke' });
      await sim.runtime.send(id, { type: 'finish' });
      const err = await sim.runtime.pauseInstance(id).catch((e) => e);
      expect(err).toMatchObject({ code: 'instance_not_active' });
      expect((await sim.runtime.get(id)).paused).toBe(false);
    });

    test('a paused instance can be stopped', async () => {
      const sim = await createSimulation({ machines: [{ machine: deadline, options: { version: '1' } }] });
      const { id } = await sim.runtime.start({ machine: 'deadline' });
      await sim.runtime.pauseInstance(id);
      const stopped = await sim.runtime.stopInstance(id, 'no longer needed');
      expect(stopped).toMatchObject({ status: 'stopped', paused: false });
      expect((await sim.runtime.effects(id)).map((e) => e.status)).toEqual(['cancelled']);
    });
  });
}
