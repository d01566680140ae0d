import { describe, expect, test } from 'vitest';
import { createSimulation as createSim, type SimulationOptions } from '../runtime/testing/index.ts';
import type { InstanceStore } from '../runtime/ports.ts';
import { approval, childFlow, deadline, parentFlow, threeSteps } from './fixtures/machines.ts';

const steps = {
  stepA: async ({ n }: { n: number }) => ({ a: n + 1 }),
  stepB: async ({ n }: { n: number }) => ({ b: n + 2 }),
  stepC: async ({ n }: { n: number }) => ({ c: n + 3 }),
};

/**
 * Runtime behaviour that must hold on every store: run by the in-memory
 * suite (`runtime/runtime.test.ts`) and the Postgres one (`test/runtime.pg.test.ts`).
 */
export function runtimeSuite(name: string, makeStore: () => Promise<InstanceStore>) {
  const createSimulation = async (o: SimulationOptions) => createSim({ ...o, store: await makeStore() });
  describe(`runtime on ${name}`, () => {
    test('runs three steps to completion and records gapless history', async () => {
      const sim = await createSimulation({ machines: [{ machine: threeSteps, options: { version: '1' } }], steps });
      const { id } = await sim.runtime.start({ machine: 'three-steps', input: { n: 1 } });
      await sim.settle();
      const v = await sim.runtime.get(id);
      expect(v.status).toBe('done');
      expect(v.output).toEqual({ results: [{ a: 2 }, { b: 3 }, { c: 4 }] });
      const h = await sim.runtime.history(id);
      expect(h.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
      expect(h.map((e) => e.type)).toEqual(['xstate.init', 'xstate.done.actor.a', 'xstate.done.actor.b', 'xstate.done.actor.c']);
      const effects = await sim.runtime.effects(id);
      expect(effects.map((e) => [e.name, e.status, e.attempts])).toEqual([
        ['a', 'done', 1],
        ['b', 'done', 1],
        ['c', 'done', 1],
      ]);
    });

    test('retries a failing step with backoff and the same idempotency key', async () => {
      const keys: string[] = [];
      const attempts: number[] = [];
      const sim = await createSimulation({
        machines: [{ machine: threeSteps, options: { version: '1' } }],
        steps: {
          ...steps,
          stepB: async (_input: { n: number }, ctx) => {
            keys.push(ctx.idempotencyKey);
            attempts.push(ctx.attempt);
            if (ctx.attempt < 3) throw new Error('flaky');
            return { b: 0 };
          },
        },
      });
      const { id } = await sim.runtime.start({ machine: 'three-steps', input: { n: 1 } });
      await sim.settle();
      expect((await sim.runtime.get(id)).value).toBe('b');
      await sim.advance(10_000);
      expect((await sim.runtime.get(id)).status).toBe('done');
      expect(attempts).toEqual([1, 2, 3]);
      expect(new Set(keys).size).toBe(1);
      expect(keys[0]).toBe(`${id}:b:2`);
    });

    test('exhausted retries deliver xstate.error.actor to the chart', async () => {
      const sim = await createSimulation({
        machines: [{ machine: threeSteps, options: { version: '1' } }],
        steps: {
          ...steps,
          stepA: async () => {
            throw new Error('down');
          },
        },
      });
      const { id } = await sim.runtime.start({ machine: 'three-steps', input: { n: 1 } });
      await sim.advance(60_000);
      const v = await sim.runtime.get(id);
      expect(v.value).toBe('failed');
      const h = await sim.runtime.history(id);
      // The rejection as the step made it (stored tagged), the attempts and the idempotency key beside it.
      expect(h.at(-1)).toMatchObject({
        type: 'xstate.error.actor.a',
        source: 'step',
        payload: {
          error: { $$type: 'Error', message: 'down' },
          statekeeperStep: { attempts: 3, idempotencyKey: `${id}:a:1`, outcome: 'unknown' },
        },
      });
      expect((await sim.runtime.effects(id)).find((e) => e.name === 'a')).toMatchObject({
        status: 'failed',
        attempts: 3,
        error: { message: 'down', attempts: 3 },
      });
    });

    test('after timers fire at their time; leaving the state cancels them', async () => {
      const sim = await createSimulation({ machines: [{ machine: deadline, options: { version: '1' } }] });
      const a = await sim.runtime.start({ machine: 'deadline' });
      const b = await sim.runtime.start({ machine: 'deadline' });
      await sim.runtime.send(b.id, { type: 'poke' });
      await sim.advance(4999);
      expect((await sim.runtime.get(a.id)).value).toBe('waiting');
      await sim.advance(1);
      expect((await sim.runtime.get(a.id)).value).toBe('expired');
      expect((await sim.runtime.get(b.id)).value).toBe('poked');
      const timers = (await sim.runtime.effects(b.id)).filter((e) => e.kind === 'timer');
      expect(timers.map((t) => t.status)).toEqual(['cancelled', 'pending']);
      await sim.runtime.send(b.id, { type: 'finish' });
      await sim.advance(3 * 24 * 3600_000);
      expect((await sim.runtime.get(b.id)).value).toBe('finished');
      expect((await sim.runtime.history(b.id)).map((e) => e.type)).toEqual(['xstate.init', 'poke', 'finish']);
    });

    test('parallel regions, guards and join', async () => {
      const sim = await createSimulation({ machines: [{ machine: approval, options: { version: '1' } }] });
      const { id } = await sim.runtime.start({ machine: 'approval', input: { amount: 5000 } });
      await sim.runtime.send(id, { type: 'finance.approve', by: 'f1' });
      expect((await sim.runtime.get(id)).value).toEqual({ review: { legal: 'pending', finance: 'second' } });
      const r = await sim.runtime.send(id, { type: 'legal.approve', by: 'l1' });
      expect(r.handled).toBe(true);
      const last = await sim.runtime.send(id, { type: 'finance.approve', by: 'f2' });
      expect(last).toMatchObject({ handled: true, value: 'approved', status: 'done' });
    });

    test('unhandled events are reported and change nothing', async () => {
      const sim = await createSimulation({ machines: [{ machine: approval, options: { version: '1' } }] });
      const { id } = await sim.runtime.start({ machine: 'approval', input: { amount: 5 } });
      const r = await sim.runtime.send(id, { type: 'nope' });
      expect(r).toMatchObject({ handled: false, version: 1 });
      const ping = await sim.runtime.send(id, { type: 'ping' });
      expect(ping).toMatchObject({ handled: true, version: 2 });
      expect((await sim.runtime.history(id)).length).toBe(2);
    });

    test('child machines run as linked instances; done reaches the parent', async () => {
      const sim = await createSimulation({ machines: [{ machine: parentFlow, options: { version: '1' } }] });
      const { id } = await sim.runtime.start({ machine: 'parent-flow' });
      await sim.settle();
      const { items } = await sim.runtime.list({ parentId: id });
      expect(items).toHaveLength(1);
      const child = items[0]!;
      expect(child.machine).toEqual({ id: 'child-flow', version: '1' });
      await sim.runtime.send(child.id, { type: 'go' });
      await sim.settle();
      const parent = await sim.runtime.get(id);
      expect(parent.status).toBe('done');
      expect(parent.context).toMatchObject({ childOutput: { label: 'HELLO' }, progress: 1 });
      expect(childFlow.id).toBe('child-flow');
    });

    test('idempotent start returns the same instance; a different input under the key is refused', async () => {
      const sim = await createSimulation({ machines: [{ machine: approval, options: { version: '1' } }] });
      const [a, b] = await Promise.all([
        sim.runtime.start({ machine: 'approval', input: { amount: 1 }, idempotencyKey: 'k1' }),
        sim.runtime.start({ machine: 'approval', input: { amount: 1 }, idempotencyKey: 'k1' }),
      ]);
      expect(a.id).toBe(b.id);
      expect([a.created, b.created].sort()).toEqual([false, true]);
      await expect(sim.runtime.start({ machine: 'approval', input: { amount: 2 }, idempotencyKey: 'k1' })).rejects.toMatchObject({
        code: 'idempotency_conflict',
      });
      expect((await sim.runtime.list()).items).toHaveLength(1);
    });

    test('a step cancelled by leaving its state never completes the chart', async () => {
      let release!: () => void;
      const sim = await createSimulation({
        machines: [{ machine: threeSteps, options: { version: '1' } }],
        steps: {
          ...steps,
          stepA: (_: unknown, ctx) =>
            new Promise((res, rej) => {
              release = () => res({ a: 1 });
              ctx.signal.addEventListener('abort', () => rej(ctx.signal.reason));
            }),
        },
      });
      const { id } = await sim.runtime.start({ machine: 'three-steps', input: { n: 1 } });
      await sim.runtime.stopInstance(id, 'test');
      release();
      await sim.settle();
      const v = await sim.runtime.get(id);
      expect(v.status).toBe('stopped');
      expect((await sim.runtime.effects(id))[0]!.status).toBe('cancelled');
    });

    test('a stop is one commit of the usual path: status stopped, open effects cancelled, the child stopped as its effect', async () => {
      const sim = await createSimulation({ machines: [{ machine: parentFlow, options: { version: '1' } }] });
      const { id } = await sim.runtime.start({ machine: 'parent-flow' });
      await sim.settle();
      const [child] = (await sim.runtime.list({ parentId: id })).items;
      const before = await sim.runtime.get(id);
      const changes: string[] = [];
      sim.runtime.subscribe((c) => changes.push(`${c.instanceId === id ? 'parent' : 'child'}:${c.eventType}:${c.status}`));
      const stopped = await sim.runtime.stopInstance(id, 'test', { caller: { id: 'ops-1' } });
      expect(stopped).toMatchObject({ status: 'stopped', version: before.version + 1, value: before.value });
      const last = (await sim.runtime.history(id)).at(-1);
      expect(last).toMatchObject({ type: 'statekeeper.stop', payload: { reason: 'test' }, source: 'operator', actor: 'ops-1' });
      expect((await sim.runtime.effects(id)).map((e) => [e.kind, e.status])).toEqual([['child', 'cancelled']]);
      await sim.settle();
      expect((await sim.runtime.get(child!.id)).status).toBe('stopped');
      expect(changes).toEqual(['parent:statekeeper.stop:stopped', 'child:statekeeper.stop:stopped']);
      // Idempotent: a second stop changes nothing.
      expect(await sim.runtime.stopInstance(id)).toMatchObject({ status: 'stopped', version: before.version + 1 });
      await expect(sim.runtime.send(id, { type: 'forward' })).rejects.toMatchObject({ code: 'instance_not_active' });
    });
  });
}
