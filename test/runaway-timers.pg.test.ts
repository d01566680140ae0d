/**
 * Regression: a runaway timer filled the database. The greeting started with
 * `reminderAfterMs: 1` (or a negative delay) re-entered its waiting state on
 * every reminder and wrote about 300 history rows a second until cancelled.
 * Now a delay below the runtime's minimum is refused where it is written
 * (registration) or ends the instance in error where it is computed, and an
 * instance committing transitions faster than its rate limit is ended in
 * error with its open effects cancelled. Each case runs on the in-memory store
 * and on PostgreSQL, the same way.
 */
import { describe, expect, test } from 'vitest';
import { sendTo, setup } from 'xstate';
import { greetingSteps } from '../actors/greeting-steps.ts';
import { greetingMachine } from '../machines/greeting.machine.ts';
import { createMetrics } from '../observability/metrics.ts';
import { observeChanges } from '../observability/changes.ts';
import type { InstanceStore } from '../runtime/index.ts';
import { MemoryStore } from '../runtime/index.ts';
import { createSimulation } from '../runtime/testing/index.ts';
import { createTestApi } from './support/api-test-support.ts';
import { pgStoreFactory } from './support/pg-store.ts';

const makePgStore = pgStoreFactory();
const stores: [string, () => Promise<InstanceStore>][] = [
  ['memory', async () => new MemoryStore()],
  ['postgres', makePgStore],
];

/** Re-enters itself every millisecond: a timer loop, refused unless the minimum delay allows 1 ms. */
const tightLoop = setup({ types: { context: {} as { n: number } } }).createMachine({
  id: 'tight-loop',
  context: { n: 0 },
  initial: 'spinning',
  states: { spinning: { after: { 1: { target: 'spinning', reenter: true } } } },
});

/** Sends itself an event on every entry: no delay at all, so only the rate limit can stop it. */
const selfSendLoop = setup({}).createMachine({
  id: 'self-send-loop',
  initial: 'spinning',
  states: { spinning: { entry: sendTo(({ self }) => self, { type: 'again' }), on: { again: { target: 'spinning', reenter: true } } } },
});

describe.each(stores)('runaway timers (%s)', (_name, makeStore) => {
  test('the greeting with reminderAfterMs 1 or -5 over HTTP ends in error instead of writing hundreds of history rows', async () => {
    // No input schema here (as for any machine registered without one): the delay reaches the runtime.
    const api = await createTestApi({
      machines: [{ machine: greetingMachine, options: { version: '1', steps: greetingSteps } }],
      simulation: { store: await makeStore() },
    });
    for (const reminderAfterMs of [1, -5]) {
      const started = await api.call('POST', '/v1/machines/greeting/instances?wait=settled', {
        body: { input: { name: 'x', reminderAfterMs } },
      });
      expect(started.status).toBe(201);
      const id = started.body.id as string;
      await api.sim.advance(2_000);
      const history = await api.call('GET', `/v1/instances/${id}/history?limit=500`);
      expect(history.body.items.length).toBeLessThanOrEqual(3);
      const instance = await api.call('GET', `/v1/instances/${id}`);
      expect(instance.body.status).toBe('error');
      expect(instance.body.error).toMatchObject({ code: 'delay_too_short' });
      expect(instance.body.error.message).toContain(`delay of ${reminderAfterMs} ms, below the runtime's minimum of 100 ms`);
      expect(instance.body.timers.filter((t: { status: string }) => t.status === 'pending')).toEqual([]);
    }
    await api.sim.runtime.close();
  });

  test('a fixed delay below the minimum is refused at registration; with a lower minimum the rate limit stops the loop', async () => {
    const strict = await createSimulation({ store: await makeStore() });
    expect(() => strict.runtime.register(tightLoop, { version: '1' })).toThrow(/a delay of 1 ms.*minimum of 100 ms/);
    await strict.runtime.close();

    const limit = { maxTransitions: 50, windowMs: 60_000 };
    const sim = await createSimulation({ store: await makeStore(), minDelayMs: 1, transitionRateLimit: limit });
    sim.runtime.register(tightLoop, { version: '1' });
    const { id } = await sim.runtime.start({ machine: 'tight-loop' });
    await sim.advance(1_000);
    const v = await sim.runtime.get(id);
    expect(v.status).toBe('error');
    expect(v.error).toMatchObject({ code: 'transition_rate_exceeded', details: { maxTransitions: 50, windowMs: 60_000 } });
    const history = await sim.runtime.history(id, { limit: 500 });
    // The creation, 50 timer firings within the limit, and the row that ended it.
    expect(history.length).toBe(52);
    expect(history.at(-1)).toMatchObject({ type: 'statekeeper.rate_limited', payload: { maxTransitions: 50 } });
    expect((await sim.runtime.effects(id)).filter((e) => e.status === 'pending')).toEqual([]);
    await sim.runtime.close();
  });

  test('an undelayed self-send loop is stopped by the default rate limit, and counted in the metrics', async () => {
    const sim = await createSimulation({ store: await makeStore() });
    const metrics = createMetrics();
    observeChanges(sim.runtime, metrics.observer);
    sim.runtime.register(selfSendLoop, { version: '1' });
    const { id } = await sim.runtime.start({ machine: 'self-send-loop' });
    await sim.settle();
    expect((await sim.runtime.get(id)).error).toMatchObject({ code: 'transition_rate_exceeded', details: { maxTransitions: 1_000 } });
    expect((await sim.runtime.history(id, { afterSeq: 1_001 })).map((e) => e.type)).toEqual(['statekeeper.rate_limited']);
    await sim.runtime.waitUntil(async () => ((await metrics.render()).includes('code="transition_rate_exceeded"') ? true : undefined));
    expect(await metrics.render()).toContain(
      'statekeeper_instances_failed_total{machine="self-send-loop",code="transition_rate_exceeded"} 1',
    );
    await sim.runtime.close();
  });
});
