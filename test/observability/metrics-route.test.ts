import { expect, test } from 'vitest';
import { createMetrics } from '../../observability/metrics.ts';
import { createStandardTestApi } from '../support/api-test-support.ts';
import { parseScrape } from '../support/prometheus.ts';

test('GET /metrics serves Prometheus text that a parser reads, gauges from the store sources', async () => {
  const metrics = createMetrics({
    instanceCounts: async () => [
      { machineId: 'greeting', status: 'active', count: 3 },
      { machineId: 'greeting', status: 'done', count: 7 },
    ],
    openLeases: async () => 2,
  });
  const api = await createStandardTestApi({ deps: { metrics } });
  const res = await api.request('GET', '/metrics', { key: null });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  const scrape = parseScrape(await res.text());
  expect(scrape.family('statekeeper_instances')?.type).toBe('GAUGE');
  expect(scrape.value('statekeeper_instances', { machine: 'greeting', status: 'done' })).toBe(7);
  expect(scrape.value('statekeeper_open_leases')).toBe(2);
  for (const name of ['statekeeper_compensations_failed_total', 'statekeeper_step_retries_total', 'statekeeper_poller_claims_total']) {
    expect(scrape.family(name)?.type).toBe('COUNTER');
  }
  for (const name of ['statekeeper_event_apply_seconds', 'statekeeper_timer_lag_seconds', 'statekeeper_commit_batch_size']) {
    expect(scrape.family(name)?.type).toBe('HISTOGRAM');
  }
});

test('with STATEKEEPER_METRICS_TOKEN set, a scrape needs that bearer token (API keys do not open it)', async () => {
  const metrics = createMetrics();
  const api = await createStandardTestApi({
    deps: { metrics: { render: metrics.render, contentType: metrics.contentType, token: 'scrape-secret-1' } },
  });
  expect((await api.call('GET', '/metrics', { key: null })).status).toBe(401);
  const wrong = await api.call('GET', '/metrics', { key: api.keys.admin });
  expect(wrong.status).toBe(401);
  expect(wrong.body.error.code).toBe('unauthorized');
  expect((await api.request('GET', '/metrics', { key: 'scrape-secret-1' })).status).toBe(200);
});

test('without a metrics endpoint configured, /metrics does not exist', async () => {
  const api = await createStandardTestApi();
  expect((await api.call('GET', '/metrics', { key: null })).status).toBe(404);
});
