import { expect, test } from 'vitest';
import { createLogger, logObserver } from '../../observability/logger.ts';
import { createMetrics } from '../../observability/metrics.ts';
import { MemoryStore, Runtime, SimulatedClock } from '../../runtime/index.ts';
import { combineObservers } from '../../runtime/observer.ts';
import { createSimulation } from '../../runtime/testing/index.ts';
import { threeSteps } from '../fixtures/machines.ts';
import { parseScrape } from '../support/prometheus.ts';
import { lineCollector } from './trace-support.ts';

test('a step whose holder stopped answering is taken over once its lease expires: counted and logged as a takeover', async () => {
  const store = new MemoryStore();
  const never = new Promise<never>(() => {});
  const dead = await createSimulation({
    store,
    machines: [{ machine: threeSteps, options: { version: '1' } }],
    steps: { stepA: () => never, stepB: async () => ({ b: 1 }), stepC: async () => ({ c: 1 }) },
  });
  const { id } = await dead.runtime.start({ machine: 'three-steps', input: { n: 1 } });
  // The first process never answers and never releases its lease (as after a SIGKILL).
  const [held] = (await store.effects(id)).filter((e) => e.kind === 'step');
  expect(held?.leaseOwner).toBe('simulation');

  const metrics = createMetrics();
  const out = lineCollector();
  const observer = combineObservers(metrics.observer, logObserver(createLogger({ destination: out })));
  const later = new SimulatedClock(held!.leaseUntil!.getTime() + 1);
  const live = new Runtime({ store, clock: later, workerId: 'live', pollIntervalMs: 0, observer });
  live.registerSteps({ stepA: async () => ({ a: 1 }), stepB: async () => ({ b: 1 }), stepC: async () => ({ c: 1 }) });
  live.register(threeSteps, { version: '1' });
  await live.resume();
  await live.waitFor(id, (v) => v.status === 'done');

  const scrape = parseScrape(await metrics.render());
  expect(scrape.value('statekeeper_lease_takeovers_total', { kind: 'step' })).toBe(1);
  expect(scrape.value('statekeeper_poller_claims_total', { kind: 'step' })).toBe(1);
  const line = out.lines.find((l) => l.msg === 'lease takeover: resuming an effect another process held');
  expect(line).toMatchObject({ instance_id: id, kind: 'step', name: 'a', owner: 'live' });
  await live.close();
});

test('a process that restarts under its own id takes its own leases back: a claim, not a takeover', async () => {
  const store = new MemoryStore();
  const sim = await createSimulation({
    store,
    machines: [{ machine: threeSteps, options: { version: '1' } }],
    steps: { stepA: () => new Promise<never>(() => {}), stepB: async () => ({ b: 1 }), stepC: async () => ({ c: 1 }) },
  });
  const { id } = await sim.runtime.start({ machine: 'three-steps', input: { n: 1 } });
  const metrics = createMetrics();
  const again = new Runtime({ store, clock: sim.clock, workerId: 'simulation', pollIntervalMs: 0, observer: metrics.observer });
  again.registerSteps({ stepA: async () => ({ a: 1 }), stepB: async () => ({ b: 1 }), stepC: async () => ({ c: 1 }) });
  again.register(threeSteps, { version: '1' });
  await again.resume();
  await again.waitFor(id, (v) => v.status === 'done');
  const scrape = parseScrape(await metrics.render());
  expect(scrape.value('statekeeper_poller_claims_total', { kind: 'step' })).toBe(1);
  expect(scrape.value('statekeeper_lease_takeovers_total', { kind: 'step' })).toBe(0);
  await again.close();
});
