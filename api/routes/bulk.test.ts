import { describe, expect, test } from 'vitest';
import { createStandardTestApi, type TestApi } from '../../test/support/api-test-support.ts';
import { payoutInput } from '../../test/fixtures/api-machines.ts';

async function payouts(api: TestApi, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 1; i <= n; i++) {
    const input = { ...payoutInput(), amount: i <= 2 ? 500 : 10 };
    const r = await api.call('POST', '/v1/machines/payout/instances?wait=settled', { body: { input, instanceId: `p-${i}` } });
    ids.push(r.body.id);
  }
  return ids;
}

describe('/v1/bulk', () => {
  test('a dry run (the default) counts and changes nothing; a run is a job whose progress and report GET shows', async () => {
    const api = await createStandardTestApi();
    await payouts(api, 5);
    const filter = { machine: 'payout', status: ['active'], state: 'review', context: { amount: 500 } };
    const dry = await api.call('POST', '/v1/bulk', { body: { action: 'cancel', filter }, key: api.keys.operator });
    expect(dry.status).toBe(200);
    expect(dry.body).toEqual({ dryRun: true, action: 'cancel', count: 2, sample: ['p-1', 'p-2'] });
    expect((await api.call('GET', '/v1/instances?status=active')).body.items).toHaveLength(5);

    const run = await api.call('POST', '/v1/bulk', {
      body: { action: 'cancel', filter, dryRun: false, reason: 'over the limit' },
      key: api.keys.operator,
    });
    expect(run.status).toBe(202);
    expect(run.headers.get('location')).toBe(`/v1/bulk/${run.body.id}`);
    expect(run.body).toMatchObject({
      action: 'cancel',
      status: 'running',
      total: 2,
      actor: 'apikey:ops',
      reason: 'over the limit',
      filter,
    });
    await api.sim.settle();
    const job = await api.call('GET', `/v1/bulk/${run.body.id}`, { key: api.keys.viewer });
    expect(job.status).toBe(200);
    expect(job.body).toMatchObject({ status: 'completed', progress: { done: 2, failed: 0, skipped: 0 }, failures: [] });
    expect(job.body.finishedAt).toEqual(expect.any(String));
    expect((await api.call('GET', '/v1/instances?status=active')).body.items.map((i: { id: string }) => i.id).sort()).toEqual([
      'p-3',
      'p-4',
      'p-5',
    ]);

    // Pausing the rest by state value, then a cancel that the paused instances refuse: failures with their code.
    await api.call('POST', '/v1/bulk', { body: { action: 'pause', filter: { stateValue: 'review' }, dryRun: false } });
    await api.sim.settle();
    const refused = await api.call('POST', '/v1/bulk', { body: { action: 'cancel', filter: { machine: 'payout' }, dryRun: false } });
    await api.sim.settle();
    const report = (await api.call('GET', `/v1/bulk/${refused.body.id}`)).body;
    expect(report).toMatchObject({ status: 'completed', total: 5, progress: { done: 0, failed: 3, skipped: 2 } });
    expect(report.failures.map((f: { instanceId: string; code: string }) => [f.instanceId, f.code]).sort()).toEqual([
      ['p-3', 'instance_paused'],
      ['p-4', 'instance_paused'],
      ['p-5', 'instance_paused'],
    ]);
    const list = await api.call('GET', '/v1/bulk?limit=2', { key: api.keys.viewer });
    expect(list.body.items).toHaveLength(2);
    const rest = await api.call('GET', `/v1/bulk?cursor=${list.body.nextCursor}`);
    expect([...list.body.items, ...rest.body.items]).toHaveLength(3);
    expect((await api.call('GET', '/v1/bulk', { key: api.keys.otherTenant })).body.items).toEqual([]);
    // Cancelling a finished job changes nothing.
    const cancelled = await api.call('POST', `/v1/bulk/${run.body.id}/cancel`, { key: api.keys.operator });
    expect(cancelled.body).toMatchObject({ status: 'completed', cancelledBy: null });
  });

  test("400 for bad actions and filters, 403 for a viewer, 404 for an unknown or another tenant's job; nothing is created", async () => {
    const api = await createStandardTestApi();
    await payouts(api, 1);
    const post = async (body: unknown, key = api.keys.operator) => {
      const r = await api.call('POST', '/v1/bulk', { body, key });
      return [r.status, r.body?.error?.code];
    };
    expect(await post({ action: 'delete', filter: {} })).toEqual([400, 'validation_failed']);
    expect(await post({ action: 'cancel' })).toEqual([400, 'validation_failed']);
    expect(await post({ action: 'cancel', filter: { colour: 'red' } })).toEqual([400, 'validation_failed']);
    expect(await post({ action: 'cancel', filter: { status: ['asleep'] } })).toEqual([400, 'validation_failed']);
    expect(await post({ action: 'cancel', filter: { createdAfter: 'yesterday' } })).toEqual([400, 'validation_failed']);
    expect(await post({ action: 'cancel', filter: { context: { 'a b': 1 } }, dryRun: false })).toEqual([400, 'invalid_argument']);
    expect(await post({ action: 'cancel', filter: {}, dryRun: 'no' })).toEqual([400, 'validation_failed']);
    expect(await post({ action: 'cancel', filter: {} }, api.keys.viewer)).toEqual([403, 'forbidden']);
    expect((await api.call('GET', '/v1/bulk')).body.items).toEqual([]);

    const run = await api.call('POST', '/v1/bulk', { body: { action: 'pause', filter: {}, dryRun: false } });
    const other = await api.call('GET', `/v1/bulk/${run.body.id}`, { key: api.keys.otherTenant });
    expect([other.status, other.body.error.code]).toEqual([404, 'bulk_job_not_found']);
    const cancelOther = await api.call('POST', `/v1/bulk/${run.body.id}/cancel`, { key: api.keys.otherTenant });
    expect(cancelOther.status).toBe(404);
    expect((await api.call('GET', '/v1/bulk/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await api.call('GET', '/v1/bulk/nope')).status).toBe(400);
    expect((await api.call('POST', `/v1/bulk/${run.body.id}/cancel`, { key: api.keys.viewer })).status).toBe(403);
  });
});
