import { setup } from 'xstate';
import { describe, expect, test } from 'vitest';
import { MemoryStore } from '../runtime/memory-store.ts';
import type { InstanceStore } from '../runtime/ports.ts';
import { Runtime } from '../runtime/runtime.ts';
import { SimulatedClock } from '../runtime/testing/index.ts';
import { pgStoreFactory } from './support/pg-store.ts';

/**
 * The effects of an instance in `error` (quarantined) stay open but are not
 * run: the poller must not claim them again every lease period (each claim
 * armed the timer, fired it into the instance in error and left it open for
 * the next claim). An operator retry brings them back.
 */

const makeStore = pgStoreFactory();
const stores: [string, () => Promise<InstanceStore>][] = [
  ['simulation', async () => new MemoryStore()],
  ['PostgreSQL', makeStore],
];

const shipment = (guard: () => boolean) =>
  setup({}).createMachine({
    id: 'q-shipment',
    initial: 'shipping',
    states: {
      shipping: { after: { 5000: 'delivered' }, on: { inspect: { guard: guard as never, target: 'inspected' } } },
      inspected: {},
      delivered: { type: 'final' },
    },
  });

/** The store with every call in flight kept in `inflight`. */
function tracked(store: InstanceStore): InstanceStore & { inflight: Set<Promise<unknown>> } {
  const inflight = new Set<Promise<unknown>>();
  const proxy = new Proxy(store, {
    get(target, key) {
      if (key === 'inflight') return inflight;
      const v = Reflect.get(target, key, target);
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        const out = v.apply(target, args);
        if (out instanceof Promise) {
          inflight.add(out);
          const done = () => inflight.delete(out);
          out.then(done, done);
        }
        return out;
      };
    },
  });
  return proxy as InstanceStore & { inflight: Set<Promise<unknown>> };
}

describe.each(stores)('a quarantined instance’s effects (%s)', (_name, newStore) => {
  test('are not claimed again while it is in error, nor at a restart; after an operator retry its timer runs', async () => {
    const clock = new SimulatedClock(new Date(Date.UTC(2030, 0, 1)));
    const claims: string[] = [];
    const store = tracked(await newStore());
    // Polling runtimes (not simulation mode): timers beyond 10 s are left to the poller, leases last 30 s past due.
    const open = async (workerId: string, guard: () => boolean) => {
      const runtime = new Runtime({
        store,
        clock,
        workerId,
        pollIntervalMs: 5000,
        timerHorizonMs: 10_000,
        onError: () => {},
        observer: { claimed: (c) => claims.push(...c.effects.map((e) => e.id)) },
      });
      runtime.register(shipment(guard), { version: '1' });
      await runtime.resume();
      return runtime;
    };
    let runtime = await open('w1', () => {
      throw new TypeError('inspection rules are not readable');
    });
    // The poll rounds are not work the runtime tracks: settle also waits for the store calls in flight.
    const settle = async () => {
      for (let quiet = 0; quiet < 2; ) {
        await runtime.settled();
        const busy = store.inflight.size > 0;
        await Promise.allSettled([...store.inflight]);
        await new Promise((r) => setImmediate(r));
        quiet = busy ? 0 : quiet + 1;
      }
    };
    try {
      const { id } = await runtime.start({ machine: 'q-shipment' });
      await runtime.send(id, { type: 'inspect' });
      expect(await runtime.get(id)).toMatchObject({ status: 'error', value: 'shipping' });
      const [timer] = await runtime.effects(id);
      expect(timer).toMatchObject({ kind: 'timer', status: 'pending' });

      // Ten minutes pass: the timer came due long ago and its lease expired many poll rounds ago.
      await clock.advance(600_000, settle);
      expect(claims).toEqual([]);
      expect((await runtime.effects(id)).map((e) => e.status)).toEqual(['pending']);
      expect((await runtime.get(id)).status).toBe('error');

      // A restart (leases released) with the fix, a guard that reads its rules: still nothing claimed until the retry.
      await runtime.close();
      runtime = await open('w2', () => false);
      await clock.advance(60_000, settle);
      expect(claims).toEqual([]);
      // The retry applies `inspect` again (`handled` is that event's: the fixed guard does not take it); the timer runs.
      runtime.register(
        shipment(() => false),
        { version: '2' },
      );
      expect(await runtime.retry(id)).toMatchObject({ status: 'active', value: 'shipping' });
      // Claimed by the retry itself, not left to the next poll round; due long ago, it fires at once.
      await settle();
      expect(claims).toEqual([timer!.id]);
      await clock.advance(0, settle);
      expect(await runtime.get(id)).toMatchObject({ status: 'done', value: 'delivered' });
      expect((await runtime.effects(id)).map((e) => e.status)).toEqual(['done']);
    } finally {
      await runtime.close();
    }
  }, 60_000);
});
