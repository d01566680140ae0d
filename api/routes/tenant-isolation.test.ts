import { describe, expect, test } from 'vitest';
import { createStandardTestApi } from '../../test/support/api-test-support.ts';
import { payoutInput } from '../../test/fixtures/api-machines.ts';

describe('tenant isolation', () => {
  test("every instance route answers 404 for another tenant's instance and changes nothing", async () => {
    const api = await createStandardTestApi();
    const { body: mine } = await api.call('POST', '/v1/machines/payout/instances?wait=settled', {
      body: { input: payoutInput(), instanceId: 'acme-1' },
    });
    const { body: parent } = await api.call('POST', '/v1/machines/parent-flow/instances?wait=settled', { body: {} });
    const childId = encodeURIComponent(parent.children[0].instanceId);
    const before = {
      mine: await api.runtime.history('acme-1', { tenant: 'acme' }),
      parent: await api.runtime.history(parent.id, { tenant: 'acme' }),
    };

    const intruder = api.keys.otherTenant;
    const attempts: [string, string, unknown?][] = [];
    for (const id of ['acme-1', encodeURIComponent(parent.id), childId]) {
      attempts.push(
        ['GET', `/v1/instances/${id}`],
        ['GET', `/v1/instances/${id}/history`],
        ['GET', `/v1/instances/${id}/stream`],
        ['POST', `/v1/instances/${id}/events`, { type: 'payout.note', text: 'x' }],
        ['POST', `/v1/instances/${id}/events`, { type: 'go' }],
        ['POST', `/v1/instances/${id}/retry`, {}],
        ['POST', `/v1/instances/${id}/cancel`, { reason: 'mine now' }],
      );
    }
    for (const [method, path, body] of attempts) {
      const r = await api.call(method, path, { key: intruder, body });
      expect([r.status, r.body.error.code], `${method} ${path}`).toEqual([404, 'instance_not_found']);
      // The answer is the one for an id that does not exist at all.
      const ghost = await api.call(method, path.replace(/\/v1\/instances\/[^/]+/, '/v1/instances/ghost'), { key: intruder, body });
      expect(r.body.error.message.replace(decodeURIComponent(path.split('/')[3]!), 'ghost')).toBe(ghost.body.error.message);
    }
    const other = await api.call('GET', '/v1/instances', { key: intruder });
    expect(other.body.items).toEqual([]);
    expect((await api.call('GET', `/v1/instances?parent=${encodeURIComponent(parent.id)}`, { key: intruder })).body.items).toEqual([]);
    expect((await api.call('GET', '/v1/stats', { key: intruder })).body.instances).toEqual([]);

    expect(await api.runtime.history('acme-1', { tenant: 'acme' })).toEqual(before.mine);
    expect(await api.runtime.history(parent.id, { tenant: 'acme' })).toEqual(before.parent);
    expect((await api.runtime.get('acme-1', { tenant: 'acme' })).status).toBe('active');
    expect(mine.tenant).toBe('acme');
  });

  test("an idempotency key is per tenant: another tenant's key never returns this tenant's instance", async () => {
    const api = await createStandardTestApi();
    const headers = { 'Idempotency-Key': 'shared' };
    const a = await api.call('POST', '/v1/machines/payout/instances', { body: { input: payoutInput() }, headers });
    const b = await api.call('POST', '/v1/machines/payout/instances', {
      body: { input: payoutInput() },
      headers,
      key: api.keys.otherTenant,
    });
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(b.body.id).not.toBe(a.body.id);
    expect(b.body.tenant).toBe('other');
  });

  test('a chosen instance id is per tenant: another tenant taking it is neither refused nor told anything', async () => {
    const api = await createStandardTestApi();
    const mine = await api.call('POST', '/v1/machines/payout/instances', { body: { input: payoutInput(), instanceId: 'taken' } });
    const r = await api.call('POST', '/v1/machines/deadline/instances', { body: { instanceId: 'taken' }, key: api.keys.otherTenant });
    expect([mine.status, r.status]).toEqual([201, 201]);
    expect(r.body).toMatchObject({ id: 'taken', tenant: 'other', machine: { id: 'deadline' } });
    expect((await api.call('GET', '/v1/instances/taken')).body.machine.id).toBe('payout');
    // Taken within the tenant is still taken.
    const again = await api.call('POST', '/v1/machines/deadline/instances', { body: { instanceId: 'taken' }, key: api.keys.otherTenant });
    expect([again.status, again.body.error.code]).toEqual([409, 'instance_exists']);
  });
});
