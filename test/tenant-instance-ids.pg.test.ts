/**
 * Regression: instance ids were global across tenants. A chosen `instanceId`
 * that another tenant used answered 409, which told the caller that the id
 * exists elsewhere and let one tenant take ids away from another. Now two
 * tenants each have their own `order-1` over HTTP on PostgreSQL: children,
 * parent links, history, effects, the event stream and idempotency keys all
 * stay with their tenant, and neither learns of the other's.
 */
import { describe, expect, test } from 'vitest';
import { payoutInput } from './fixtures/api-machines.ts';
import { createStandardTestApi } from './support/api-test-support.ts';
import { pgStoreFactory } from './support/pg-store.ts';

const makeStore = pgStoreFactory();

describe('instance ids are scoped by tenant (PostgreSQL, over HTTP)', () => {
  test('two tenants each have instance "order-1" with its own children, history, effects, stream and idempotency keys', async () => {
    const store = await makeStore();
    const api = await createStandardTestApi({ simulation: { store } });
    const acme = api.keys.admin;
    const other = api.keys.otherTenant;
    const start = (key: string, machine: string, body: object, headers: Record<string, string> = {}) =>
      api.call('POST', `/v1/machines/${machine}/instances?wait=settled`, { key, body, headers });

    // The same chosen id, and the same idempotency key, in both tenants: two instances, no 409, nothing shared.
    const a = await start(acme, 'payout', { input: payoutInput(), instanceId: 'order-1' }, { 'Idempotency-Key': 'k-1' });
    const b = await start(other, 'parent-flow', { instanceId: 'order-1' }, { 'Idempotency-Key': 'k-1' });
    expect([a.status, b.status]).toEqual([201, 201]);
    expect([a.body.id, a.body.tenant, b.body.id, b.body.tenant]).toEqual(['order-1', 'acme', 'order-1', 'other']);
    // A repeat under the key answers with the tenant's own instance.
    const again = await start(other, 'parent-flow', { instanceId: 'order-1' }, { 'Idempotency-Key': 'k-1' });
    expect([again.status, again.body.id, again.body.machine.id]).toEqual([200, 'order-1', 'parent-flow']);
    expect((await start(other, 'parent-flow', { instanceId: 'order-1' })).body.error.code).toBe('instance_exists');

    // Each tenant reads its own instance under the one id.
    expect((await api.call('GET', '/v1/instances/order-1', { key: acme })).body.machine.id).toBe('payout');
    const parent = await api.call('GET', '/v1/instances/order-1', { key: other });
    expect(parent.body.machine.id).toBe('parent-flow');

    // The child of other's order-1: named under its parent's public id, linked both ways, driven through the parent.
    const childId = parent.body.children[0].instanceId as string;
    expect(childId.startsWith('order-1:')).toBe(true);
    const child = await api.call('GET', `/v1/instances/${encodeURIComponent(childId)}`, { key: other });
    expect(child.body).toMatchObject({ id: childId, parentId: 'order-1', tenant: 'other', machine: { id: 'child-flow' } });
    const listed = await api.call('GET', '/v1/instances?parent=order-1', { key: other });
    expect(listed.body.items.map((i: { id: string }) => i.id)).toEqual([childId]);
    expect((await api.call('GET', '/v1/instances?parent=order-1', { key: acme })).body.items).toEqual([]);
    expect((await api.call('GET', `/v1/instances/${encodeURIComponent(childId)}`, { key: acme })).status).toBe(404);

    // The event stream of other's order-1 sees its own changes only.
    const stream = await api.request('GET', '/v1/instances/order-1/stream', { key: other });
    const reader = stream.body!.getReader();
    const sent = await api.call('POST', `/v1/instances/${encodeURIComponent(childId)}/events?wait=settled`, {
      key: other,
      body: { type: 'go' },
    });
    expect(sent.body).toMatchObject({ instanceId: childId, handled: true, status: 'done' });
    await api.call('POST', '/v1/instances/order-1/events', { key: acme, body: { type: 'payout.note', text: 'acme only' } });
    let text = '';
    const decoder = new TextDecoder();
    while (!text.includes('event: end')) text += decoder.decode((await reader.read()).value);
    await reader.cancel();
    expect(text).toContain('"instanceId":"order-1"');
    expect(text).toContain('"status":"done"');
    expect(text).not.toContain('payout');

    // History and effects: each tenant's own.
    const historyOf = async (key: string) =>
      (await api.call('GET', '/v1/instances/order-1/history', { key })).body.items.map((e: { type: string }) => e.type);
    expect(await historyOf(acme)).toEqual(expect.arrayContaining(['xstate.init', 'payout.note']));
    expect(await historyOf(other)).toEqual(expect.arrayContaining(['xstate.init', 'xstate.done.actor.kid']));
    expect(await historyOf(other)).not.toContain('payout.note');
    const otherView = await api.call('GET', '/v1/instances/order-1', { key: other });
    expect(otherView.body).toMatchObject({ status: 'done', children: [{ instanceId: childId, status: 'done' }] });
    expect((await api.call('GET', '/v1/instances/order-1', { key: acme })).body.status).toBe('active');

    // Stored apart: an operator (no tenant) names each by its stored, tenant-qualified id.
    expect((await api.runtime.get('acme:order-1')).tenant).toBe('acme');
    expect((await api.runtime.get('other:order-1')).tenant).toBe('other');
    expect((await api.runtime.get(`other:${childId}`)).parentId).toBe('order-1');
    await api.sim.runtime.close();
  });

  test('a tenant asking for an id another tenant chose gets the answer for an id that does not exist', async () => {
    const api = await createStandardTestApi({ simulation: { store: await makeStore() } });
    await api.call('POST', '/v1/machines/payout/instances', { body: { input: payoutInput(), instanceId: 'secret-42' } });
    for (const id of ['secret-42', 'ghost']) {
      const r = await api.call('GET', `/v1/instances/${id}`, { key: api.keys.otherTenant });
      expect([r.status, r.body.error.code, r.body.error.message]).toEqual([
        404,
        'instance_not_found',
        `Instance "${id}" does not exist (or belongs to another tenant).`,
      ]);
    }
    // The other tenant may take the id for itself.
    const mine = await api.call('POST', '/v1/machines/deadline/instances', {
      body: { instanceId: 'secret-42' },
      key: api.keys.otherTenant,
    });
    expect([mine.status, mine.body.id]).toEqual([201, 'secret-42']);
    await api.sim.runtime.close();
  });
});
