import { expect, test } from 'vitest';
import { threeSteps } from '../test/fixtures/machines.ts';
import { SimulatedClock } from './clock.ts';
import { MemoryStore } from './memory-store.ts';
import type { LeaseLostInfo } from './observer.ts';
import { Runtime } from './runtime.ts';

function setup() {
  const store = new MemoryStore();
  const clock = new SimulatedClock();
  const aborted: unknown[] = [];
  const lost: LeaseLostInfo[] = [];
  const runtime = new Runtime({
    store,
    clock,
    workerId: 'a',
    pollIntervalMs: 0,
    leaseMs: 2000,
    heartbeatMs: 1000,
    observer: { leaseLost: (l) => lost.push(l) },
    steps: {
      // In flight until aborted.
      stepA: (_input: unknown, ctx) =>
        new Promise((_, reject) =>
          ctx.signal.addEventListener('abort', () => (aborted.push(ctx.signal.reason), reject(ctx.signal.reason))),
        ),
      stepB: async () => ({ b: 1 }),
      stepC: async () => ({ c: 1 }),
    },
  });
  runtime.register(threeSteps, { version: '1' });
  return { store, clock, runtime, aborted, lost };
}

/** Lets the work a callback started run (a step in flight never settles, so `runtime.settled()` would not do). */
const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

const stepRow = async (store: MemoryStore, id: string) => (await store.effects(id)).find((e) => e.kind === 'step')!;

test('the heartbeat renews the lease of a running step for as long as it runs', async () => {
  const { store, clock, runtime } = setup();
  const { id } = await runtime.start({ machine: 'three-steps', input: { n: 1 } });
  const first = (await stepRow(store, id)).leaseUntil!.getTime();
  await clock.advance(10_000, flush);
  const row = await stepRow(store, id);
  expect(row).toMatchObject({ status: 'pending', leaseOwner: 'a' });
  expect(row.leaseUntil!.getTime()).toBeGreaterThanOrEqual(first + 9000);
  // Nobody else can claim it while it is renewed.
  expect(await store.claimDue('b', clock.now(), clock.now(), new Date(clock.now().getTime() + 2000), 10)).toEqual([]);
  await runtime.close();
});

test('a step another process took over while this one stalled past its lease is dropped here, its result never offered', async () => {
  const { store, clock, runtime, aborted, lost } = setup();
  const { id } = await runtime.start({ machine: 'three-steps', input: { n: 1 } });
  const row = await stepRow(store, id);
  // This process stalls: its lease lapses and process b claims the step.
  const later = new Date(row.leaseUntil!.getTime() + 1);
  const [claimed] = await store.claimDue('b', later, later, new Date(later.getTime() + 60_000), 10);
  expect(claimed).toMatchObject({ id: row.id, leaseOwner: 'b', previousOwner: 'a' });

  await clock.advance(1000, flush);
  expect(lost).toEqual([{ owner: 'a', effectIds: [row.id] }]);
  expect(String(aborted[0])).toMatch(/lease lost/);
  // b holds it, open; this process committed nothing for it.
  expect(await stepRow(store, id)).toMatchObject({ status: 'pending', leaseOwner: 'b' });
  expect((await runtime.history(id)).map((e) => e.type)).toEqual(['xstate.init']);
  await runtime.close();
});

test('heartbeat and lease options are checked', () => {
  const store = new MemoryStore();
  expect(() => new Runtime({ store, leaseMs: 1000, heartbeatMs: 1000 })).toThrow(/heartbeatMs/);
  expect(() => new Runtime({ store, leaseMs: 50 })).toThrow(/leaseMs/);
});
