import { describe, expect, test } from 'vitest';
import { createTestApi } from '../../test/support/api-test-support.ts';
import { job, quick } from '../../test/schedule-suite.ts';

const HOUR = 3_600_000;
const T0 = Date.parse('2030-01-01T00:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

const setupApi = () =>
  createTestApi({
    machines: [
      { machine: job, options: { version: '1' } },
      { machine: quick, options: { version: '1' } },
    ],
  });

describe('schedules over HTTP', () => {
  test('an operator creates a schedule; viewers read it; ticks start instances of the tenant; another tenant sees none', async () => {
    const api = await setupApi();
    const body = { id: 'hourly', machine: 'job', cron: '0 * * * *', timezone: 'Europe/Berlin', input: { tick: '{{tick}}', token: 't' } };
    expect((await api.call('POST', '/v1/schedules', { body, key: api.keys.viewer })).status).toBe(403);
    const created = await api.call('POST', '/v1/schedules', { body, key: api.keys.operator });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      id: 'hourly',
      tenant: 'acme',
      overlap: 'skip',
      catchUp: 'none',
      paused: false,
      origin: 'api',
      lastTick: null,
      // Secret-looking keys are redacted in answers, as everywhere in the API.
      input: { tick: '{{tick}}', token: '[redacted]' },
    });
    expect(created.body.nextTicks).toEqual([1, 2, 3, 4, 5].map((h) => iso(T0 + h * HOUR)));
    expect((await api.call('POST', '/v1/schedules', { body, key: api.keys.operator })).body.error.code).toBe('schedule_exists');
    const listed = await api.call('GET', '/v1/schedules', { key: api.keys.viewer });
    expect(listed.body.items.map((s: { id: string }) => s.id)).toEqual(['hourly']);
    expect((await api.call('GET', '/v1/schedules', { key: api.keys.otherTenant })).body.items).toEqual([]);
    expect((await api.call('GET', '/v1/schedules/hourly', { key: api.keys.otherTenant })).status).toBe(404);
    expect((await api.call('POST', '/v1/schedules/hourly/pause', { key: api.keys.otherTenant })).status).toBe(404);

    await api.sim.advance(HOUR);
    const one = await api.call('GET', '/v1/schedules/hourly', { key: api.keys.viewer });
    expect(one.body).toMatchObject({ lastTick: iso(T0 + HOUR), lastOutcome: 'started' });
    const instance = await api.call('GET', `/v1/instances/${one.body.lastInstanceId}`, { key: api.keys.viewer });
    expect(instance.body).toMatchObject({ machine: { id: 'job' }, status: 'active', context: { tick: iso(T0 + HOUR) } });
    expect((await api.call('GET', `/v1/instances/${one.body.lastInstanceId}`, { key: api.keys.otherTenant })).status).toBe(404);
  });

  test('bad expressions, time zones, fields and machines are refused with stable codes and store nothing', async () => {
    const api = await setupApi();
    const post = async (patch: Record<string, unknown>) => {
      const r = await api.call('POST', '/v1/schedules', { body: { id: 's', machine: 'quick', cron: '0 * * * *', ...patch } });
      return [r.status, r.body?.error?.code];
    };
    expect(await post({ cron: 'at noon' })).toEqual([400, 'cron_invalid']);
    expect(await post({ cron: '0 0 30 2 *' })).toEqual([400, 'cron_invalid']);
    expect(await post({ timezone: 'Europe/Atlantis' })).toEqual([400, 'timezone_invalid']);
    expect(await post({ overlap: 'queue' })).toEqual([400, 'validation_failed']);
    expect(await post({ every: 'hour' })).toEqual([400, 'validation_failed']);
    expect(await post({ id: 'a/b' })).toEqual([400, 'validation_failed']);
    expect(await post({ machine: 'missing' })).toEqual([404, 'machine_not_found']);
    expect(await post({ input: { when: '{{yesterday}}' } })).toEqual([400, 'invalid_argument']);
    expect((await api.call('GET', '/v1/schedules')).body.items).toEqual([]);
  });

  test('pause, resume, trigger (409 schedule_overlap under skip while the last instance runs) and delete', async () => {
    const api = await setupApi();
    await api.call('POST', '/v1/schedules', { body: { id: 'p', machine: 'job', cron: '0 * * * *' } });
    expect((await api.call('POST', '/v1/schedules/p/pause', { key: api.keys.viewer })).status).toBe(403);
    const paused = await api.call('POST', '/v1/schedules/p/pause', { key: api.keys.operator });
    expect(paused.body).toMatchObject({ paused: true, nextTicks: [] });
    await api.sim.advance(2 * HOUR);
    expect((await api.call('GET', '/v1/instances?machine=job')).body.items).toEqual([]);
    const resumed = await api.call('POST', '/v1/schedules/p/resume', { key: api.keys.operator });
    expect(resumed.body).toMatchObject({ paused: false, nextTicks: expect.arrayContaining([iso(T0 + 3 * HOUR)]) });
    const fired = await api.call('POST', '/v1/schedules/p/trigger', { key: api.keys.operator });
    expect(fired.status).toBe(201);
    expect(fired.body).toMatchObject({ outcome: 'started', created: true });
    await api.sim.advance(60_000);
    const again = await api.call('POST', '/v1/schedules/p/trigger', { key: api.keys.operator });
    expect([again.status, again.body.error.code, again.body.error.details.previousInstanceId]).toEqual([
      409,
      'schedule_overlap',
      fired.body.instanceId,
    ]);
    expect((await api.call('DELETE', '/v1/schedules/p', { key: api.keys.viewer })).status).toBe(403);
    expect((await api.call('DELETE', '/v1/schedules/p', { key: api.keys.operator })).status).toBe(204);
    expect((await api.call('DELETE', '/v1/schedules/p', { key: api.keys.operator })).body.error.code).toBe('schedule_not_found');
    // The instance the schedule started stays.
    expect((await api.call('GET', `/v1/instances/${fired.body.instanceId}`)).body.status).toBe('active');
  });

  test('the routes are in the OpenAPI document', async () => {
    const api = await setupApi();
    const doc = (await api.call('GET', '/openapi.json', { key: null })).body;
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/schedules',
        '/v1/schedules/{id}',
        '/v1/schedules/{id}/pause',
        '/v1/schedules/{id}/resume',
        '/v1/schedules/{id}/trigger',
      ]),
    );
    expect(Object.keys(doc.paths['/v1/schedules/{id}'])).toEqual(expect.arrayContaining(['get', 'delete']));
  });
});
