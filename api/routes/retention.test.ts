import { expect, test } from 'vitest';
import { createMetrics } from '../../observability/metrics.ts';
import { createTestApi } from '../../test/support/api-test-support.ts';
import { job, quick } from '../../test/schedule-suite.ts';

const DAY = 86_400_000;

test('POST /v1/retention/run (operator): a dry run counts, a run removes the tenant’s old finished instances and counts rows', async () => {
  const metrics = createMetrics();
  const api = await createTestApi({
    machines: [
      { machine: quick, options: { version: '1', retention: { days: 7 } } },
      { machine: job, options: { version: '1', retention: { days: 7 } } },
    ],
    simulation: { observer: metrics.observer },
  });
  const start = async (machine: string, key: string) =>
    (await api.call('POST', `/v1/machines/${machine}/instances`, { key, body: {} })).body.id;
  const mine = await start('quick', api.keys.operator);
  const running = await start('job', api.keys.operator);
  const theirs = await start('quick', api.keys.otherTenant);
  await api.sim.advance(8 * DAY);

  expect((await api.call('POST', '/v1/retention/run?dryRun=true', { key: api.keys.viewer })).status).toBe(403);
  expect((await api.call('POST', '/v1/retention/run?dryRun=maybe')).body.error.code).toBe('validation_failed');
  const dry = await api.call('POST', '/v1/retention/run?dryRun=true', { key: api.keys.operator });
  expect(dry.status).toBe(200);
  expect(dry.body).toMatchObject({ dryRun: true, tenant: 'acme', batches: 0, totals: { instances: 1, events: 1 } });
  expect((await api.call('GET', `/v1/instances/${mine}`)).status).toBe(200);

  const done = await api.call('POST', '/v1/retention/run', { key: api.keys.operator });
  expect(done.body).toMatchObject({ dryRun: false, totals: dry.body.totals });
  expect(done.body.rules).toEqual([expect.objectContaining({ machines: ['quick', 'job'], days: 7, mode: 'delete', batches: 1 })]);
  expect((await api.call('GET', `/v1/instances/${mine}`)).body.error.code).toBe('instance_not_found');
  expect((await api.call('GET', `/v1/instances/${running}`)).body.status).toBe('active');
  // Another tenant's instance is not this run's to take.
  expect((await api.call('GET', `/v1/instances/${theirs}`, { key: api.keys.otherTenant })).status).toBe(200);
  const text = await metrics.render();
  expect(text).toContain('statekeeper_retention_rows_total{table="instances",mode="delete"} 1');
  expect(text).toContain('statekeeper_retention_rows_total{table="events",mode="delete"} 1');
  const doc = (await api.call('GET', '/openapi.json', { key: null })).body;
  expect(Object.keys(doc.paths['/v1/retention/run'])).toEqual(['post']);
});
