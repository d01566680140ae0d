import { describe, expect, test } from 'vitest';
import type { WebhookRequest } from '../../runtime/outbox/webhook-sender.ts';
import { emitter } from '../../test/fixtures/emitter.machine.ts';
import { createTestApi } from '../../test/support/api-test-support.ts';

/** Webhook subscriptions and deliveries over HTTP: validation, roles, tenant isolation, dead letters and redelivery. */
async function setupApi(answer: (r: WebhookRequest) => number = () => 200) {
  const sent: WebhookRequest[] = [];
  const api = await createTestApi({
    machines: [{ machine: emitter, options: { version: '1' } }],
    simulation: {
      outbox: {
        maxAttempts: 2,
        backoffMs: 1000,
        sender: async (r) => {
          sent.push(r);
          const status = answer(r);
          return status < 300 ? { ok: true, status } : { ok: false, status, error: `HTTP ${status}` };
        },
      },
    },
  });
  const emit = async (key: string, n: number) => {
    const started = await api.call('POST', '/v1/machines/emitter/instances', { body: {}, key });
    expect(started.status).toBe(201);
    const id = started.body.id as string;
    expect((await api.call('POST', `/v1/instances/${id}/events`, { body: { type: 'go', kind: 'order.shipped', n }, key })).status).toBe(
      200,
    );
    await api.sim.settle();
    return id;
  };
  return { api, sent, emit };
}

describe('webhook subscriptions over HTTP', () => {
  test('create (the secret only in the answer), list, get, delete; deliveries are signed and listed', async () => {
    const { api, sent, emit } = await setupApi();
    const made = await api.call('POST', '/v1/subscriptions', {
      key: api.keys.operator,
      body: { url: 'https://hooks.example.net/in', eventTypes: ['order.*'], description: 'orders' },
    });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ url: 'https://hooks.example.net/in', eventTypes: ['order.*'], description: 'orders' });
    expect(made.body.secret).toMatch(/^whsec_/);
    const sub = made.body.id as string;
    const listed = await api.call('GET', '/v1/subscriptions', { key: api.keys.operator });
    const { secret: _secret, ...shown } = made.body;
    expect(listed.body.items).toEqual([shown]);
    expect((await api.call('GET', `/v1/subscriptions/${sub}`, { key: api.keys.operator })).body.secret).toBeUndefined();

    const id = await emit(api.keys.operator, 3);
    expect(sent).toHaveLength(1);
    const body = JSON.parse(sent[0]!.body);
    expect(body).toMatchObject({ type: 'order.shipped', instanceId: id, tenant: 'acme', data: { n: 3 } });
    const deliveries = await api.call('GET', `/v1/instances/${id}/deliveries`, { key: api.keys.viewer });
    expect(deliveries.status).toBe(200);
    expect(deliveries.body.items).toMatchObject([{ id: sent[0]!.id, subscriptionId: sub, status: 'delivered', attempts: 1 }]);
    expect(sent[0]!.secret).toBe(made.body.secret);

    expect((await api.call('DELETE', `/v1/subscriptions/${sub}`, { key: api.keys.operator })).status).toBe(204);
    expect((await api.call('GET', `/v1/subscriptions/${sub}`, { key: api.keys.operator })).body.error.code).toBe('subscription_not_found');
    expect((await api.call('DELETE', `/v1/subscriptions/${sub}`, { key: api.keys.operator })).status).toBe(404);
    await emit(api.keys.operator, 4);
    expect(sent).toHaveLength(1);
  });

  test('bad URLs, filters and secrets are refused with 400 and store nothing', async () => {
    const { api } = await setupApi();
    const refuse = async (body: unknown) => {
      const r = await api.call('POST', '/v1/subscriptions', { key: api.keys.operator, body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      return r.body.error;
    };
    expect((await refuse({ url: 'ftp://example.net/x' })).code).toBe('invalid_argument');
    expect((await refuse({ url: 'https://user:pw@example.net/x' })).message).toMatch(/credentials/);
    expect((await refuse({ url: 'not a url' })).message).toMatch(/absolute URL/);
    expect((await refuse({ url: 'https://example.net/x#frag' })).message).toMatch(/fragment/);
    expect((await refuse({ url: `https://example.net/${'a'.repeat(2100)}` })).code).toBe('validation_failed');
    expect((await refuse({ url: 'javascript:alert(1)' })).code).toBe('invalid_argument');
    expect((await refuse({ url: 'https://example.net/x', eventTypes: ['order*'] })).message).toMatch(/pattern/);
    expect((await refuse({ url: 'https://example.net/x', eventTypes: [] })).code).toBe('validation_failed');
    expect((await refuse({ url: 'https://example.net/x', secret: 'hunter2' })).message).toMatch(/whsec_/);
    expect((await refuse({ url: 'https://example.net/x', secret: `whsec_${Buffer.alloc(8).toString('base64')}` })).message).toMatch(
      /24 to 64 bytes/,
    );
    expect((await refuse({ url: 'https://example.net/x', extra: 1 })).code).toBe('validation_failed');
    expect((await api.call('GET', '/v1/subscriptions', { key: api.keys.operator })).body.items).toEqual([]);
    expect((await api.call('GET', '/v1/deliveries?status=lost', { key: api.keys.viewer })).status).toBe(400);
    expect((await api.call('GET', '/v1/subscriptions/not-an-id', { key: api.keys.operator })).status).toBe(400);
  });

  test('the operator role is needed to manage subscriptions and to redeliver', async () => {
    const { api } = await setupApi();
    const body = { url: 'https://example.net/x' };
    expect((await api.call('POST', '/v1/subscriptions', { key: api.keys.viewer, body })).status).toBe(403);
    expect((await api.call('GET', '/v1/subscriptions', { key: api.keys.viewer })).status).toBe(403);
    expect((await api.call('GET', '/v1/deliveries', { key: api.keys.viewer })).status).toBe(200);
    expect(
      (await api.call('POST', '/v1/deliveries/1-sub_00000000000000000000000000000000/redeliver', { key: api.keys.viewer })).status,
    ).toBe(403);
  });

  test("another tenant's subscriptions, deliveries and instances do not exist for the caller", async () => {
    const { api, sent, emit } = await setupApi();
    const made = await api.call('POST', '/v1/subscriptions', { key: api.keys.operator, body: { url: 'https://example.net/acme' } });
    const sub = made.body.id as string;
    const other = api.keys.otherTenant;
    expect((await api.call('GET', `/v1/subscriptions/${sub}`, { key: other })).status).toBe(404);
    expect((await api.call('DELETE', `/v1/subscriptions/${sub}`, { key: other })).status).toBe(404);
    expect((await api.call('GET', '/v1/subscriptions', { key: other })).body.items).toEqual([]);
    // The other tenant's rows do not reach acme's webhook.
    await emit(other, 1);
    expect(sent).toHaveLength(0);
    const id = await emit(api.keys.operator, 2);
    expect(sent).toHaveLength(1);
    const delivery = sent[0]!.id;
    expect((await api.call('GET', `/v1/deliveries/${delivery}`, { key: other })).status).toBe(404);
    expect((await api.call('POST', `/v1/deliveries/${delivery}/redeliver`, { key: other })).status).toBe(404);
    expect((await api.call('GET', `/v1/instances/${id}/deliveries`, { key: other })).status).toBe(404);
    expect((await api.call('GET', '/v1/deliveries', { key: other })).body.items).toEqual([]);
    expect((await api.call('GET', '/v1/subscriptions', { key: api.keys.operator })).body.items).toHaveLength(1);
  });

  test('dead letters are listed with ?status=dead and delivered again on request', async () => {
    let up = false;
    const { api, sent, emit } = await setupApi(() => (up ? 200 : 500));
    await api.call('POST', '/v1/subscriptions', { key: api.keys.operator, body: { url: 'https://example.net/x' } });
    await emit(api.keys.operator, 1);
    await api.sim.advance(1000);
    const dead = await api.call('GET', '/v1/deliveries?status=dead', { key: api.keys.viewer });
    expect(dead.body.items).toMatchObject([{ status: 'dead', attempts: 2, lastError: 'HTTP 500', lastStatus: 500 }]);
    const id = dead.body.items[0].id as string;
    expect((await api.call('POST', `/v1/deliveries/${id}/redeliver`, { key: api.keys.viewer })).status).toBe(403);
    up = true;
    const again = await api.call('POST', `/v1/deliveries/${id}/redeliver`, { key: api.keys.operator });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ status: 'pending', attempts: 0 });
    await api.sim.settle();
    expect((await api.call('GET', `/v1/deliveries/${id}`, { key: api.keys.viewer })).body).toMatchObject({
      status: 'delivered',
      attempts: 1,
    });
    expect(sent.map((r) => r.id)).toEqual([id, id, id]);
    const twice = await api.call('POST', '/v1/deliveries/1-sub_00000000000000000000000000000000/redeliver', { key: api.keys.operator });
    expect(twice.status).toBe(404);
  });
});
