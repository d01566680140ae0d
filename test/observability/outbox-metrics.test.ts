import { expect, test } from 'vitest';
import { createMetrics } from '../../observability/metrics.ts';
import { MemoryStore } from '../../runtime/index.ts';
import { createSimulation } from '../../runtime/testing/index.ts';
import { emitter } from '../fixtures/emitter.machine.ts';
import { histogram, parseScrape } from '../support/prometheus.ts';

test('outbox deliveries are counted by outcome, delivered ones timed from their commit, the backlog read at scrape', async () => {
  const store = new MemoryStore();
  let now = () => new Date();
  const metrics = createMetrics({ outboxBacklog: () => store.outboxStore.backlog(now()) });
  const sim = await createSimulation({
    store,
    machines: [{ machine: emitter, options: { version: '1' } }],
    observer: metrics.observer,
    outbox: { maxAttempts: 2, backoffMs: 1000, random: () => 0 },
  });
  now = () => sim.clock.now();
  await sim.runtime.outbox.subscribe('counted', {}, (m) => {
    if ((m.payload as { n: number }).n === 1) throw new Error('no');
  });
  await sim.runtime.outbox.subscribe('stalled', { eventTypes: ['never.*'] }, () => {});
  const { id } = await sim.runtime.start({ machine: 'emitter' });
  await sim.runtime.send(id, { type: 'go', kind: 'x', n: 1 });
  await sim.runtime.send(id, { type: 'go', kind: 'x', n: 2 });
  await sim.settle();
  let scrape = parseScrape(await metrics.render());
  expect(scrape.value('statekeeper_outbox_deliveries_total', { kind: 'handler', outcome: 'failed' })).toBe(1);
  expect(scrape.value('statekeeper_outbox_pending')).toBe(2);
  await sim.advance(500);
  scrape = parseScrape(await metrics.render());
  expect(scrape.value('statekeeper_outbox_deliveries_total', { kind: 'handler', outcome: 'dead' })).toBe(1);
  expect(scrape.value('statekeeper_outbox_deliveries_total', { kind: 'handler', outcome: 'delivered' })).toBe(1);
  expect(scrape.value('statekeeper_outbox_pending')).toBe(0);
  expect(scrape.value('statekeeper_outbox_oldest_pending_seconds')).toBe(0);
  // Row 2 waited behind row 1's back-off: half a second of lag on the simulated clock.
  expect(await histogram(metrics.registry, 'statekeeper_outbox_delivery_lag_seconds')).toEqual({ count: 1, sum: 0.5 });
  await sim.runtime.close();
});
