import { expect, test } from 'vitest';
import { assign, setup } from 'xstate';
import { MemoryStore } from './memory-store.ts';
import { Runtime } from './runtime.ts';
import { step } from './step.ts';
import { createSimulation } from './testing/index.ts';

// Waits for `go`, then calls `charge` once (the default policy retries; maxAttempts 1 makes "no call yet" matter).
const order = setup({
  types: { context: {} as { receipt: unknown } },
  actors: { charge: step<unknown, { receipt: string }>({ maxAttempts: 1 }) },
}).createMachine({
  id: 'order',
  context: { receipt: null },
  initial: 'idle',
  states: {
    idle: { on: { go: 'charging' } },
    charging: {
      invoke: { id: 'charge', src: 'charge', onDone: { target: 'paid', actions: assign({ receipt: ({ event }) => event.output }) } },
    },
    paid: { type: 'final' },
  },
});

test('the commit that opens a step records its first call; the runner makes it without another write', async () => {
  const calls: number[] = [];
  const sim = await createSimulation({
    steps: { charge: async (_: unknown, ctx) => (calls.push(ctx.attempt), { receipt: 'r1' }) },
    machines: [{ machine: order, options: { version: '1' } }],
  });
  const { id } = await sim.runtime.start({ machine: 'order' });
  await sim.runtime.send(id, { type: 'go' });
  await sim.settle();
  expect(calls).toEqual([1]);
  const [charge] = await sim.store.effects(id);
  expect(charge).toMatchObject({ kind: 'step', status: 'done', attempts: 1 });
});

test('a runtime that stops before making the first call takes it back: the next process makes call 1, not "interrupted"', async () => {
  const store = new MemoryStore();
  const calls: string[] = [];
  const first = new Runtime({
    store,
    workerId: 'a',
    pollIntervalMs: 0,
    steps: { charge: async () => (calls.push('a'), { receipt: 'a' }) },
  });
  first.register(order, { version: '1' });
  const { id } = await first.start({ machine: 'order' });
  // The event is committed while the runtime is already stopping: its step is opened but never started here.
  const sent = first.send(id, { type: 'go' });
  await first.close();
  await sent;
  expect(calls).toEqual([]);
  const [open] = await store.effects(id);
  expect(open).toMatchObject({ kind: 'step', status: 'pending', attempts: 0 });

  const second = new Runtime({
    store,
    workerId: 'a',
    pollIntervalMs: 0,
    steps: { charge: async (_: unknown, ctx) => (calls.push(`b${ctx.attempt}`), { receipt: 'b' }) },
  });
  second.register(order, { version: '1' });
  await second.resume();
  await second.waitFor(id, (v) => v.status === 'done');
  expect(calls).toEqual(['b1']);
  await second.close();
});
