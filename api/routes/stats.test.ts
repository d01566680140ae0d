import { describe, expect, test } from 'vitest';
import { createStandardTestApi } from '../../test/support/api-test-support.ts';
import { payoutInput } from '../../test/fixtures/api-machines.ts';

describe('GET /v1/stats', () => {
  test("counts the caller's tenant only", async () => {
    const api = await createStandardTestApi();
    await api.call('POST', '/v1/machines/payout/instances?wait=settled', { body: { input: payoutInput(), instanceId: 's-1' } });
    await api.call('POST', '/v1/machines/payout/instances?wait=settled', { body: { input: payoutInput() } });
    await api.call('POST', '/v1/instances/s-1/events', { body: { type: 'payout.approve' }, key: api.keys.finance });
    await api.call('POST', '/v1/machines/payout/instances', { body: { input: payoutInput() }, key: api.keys.otherTenant });
    await api.sim.settle();

    const r = await api.call('GET', '/v1/stats', { key: api.keys.viewer });
    expect(r.status).toBe(200);
    expect(r.body.instances).toEqual(
      expect.arrayContaining([
        { machineId: 'payout', status: 'active', count: 1 },
        { machineId: 'payout', status: 'done', count: 1 },
      ]),
    );
    expect(r.body.steps).toEqual([expect.objectContaining({ name: 'charge', total: 2, failed: 0 })]);
    expect(r.body.durations).toEqual([expect.objectContaining({ machineId: 'payout', finished: 1 })]);
    const other = await api.call('GET', '/v1/stats', { key: api.keys.otherTenant });
    expect(other.body.instances).toEqual([{ machineId: 'payout', status: 'active', count: 1 }]);
    expect((await api.call('GET', '/v1/stats?x=1')).status).toBe(200);
    expect((await api.call('GET', '/v1/stats', { key: null })).status).toBe(401);
  });
});
