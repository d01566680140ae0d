import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { describe, expect, test } from 'vitest';
import { assign, setup } from 'xstate';
import { createTestApi, type TestApi } from '../../test/support/api-test-support.ts';
import { parseWebhookSources, type WebhookSourcesInput } from '../webhooks/webhook-config.ts';
import type { WebhookDeliveryStore } from '../webhooks/deliveries.ts';

type Ctx = { orderId: string; amount: number | null; checks: number };
const order = setup({
  types: {
    context: {} as Ctx,
    input: {} as { orderId: string },
    events: {} as { type: 'payment.succeeded'; amount?: number } | { type: 'checks.passed' },
  },
}).createMachine({
  id: 'order',
  context: ({ input }) => ({ orderId: input.orderId, amount: null, checks: 0 }),
  initial: 'awaitingPayment',
  on: { 'checks.passed': { actions: assign({ checks: ({ context }) => context.checks + 1 }) } },
  states: {
    awaitingPayment: {
      on: { 'payment.succeeded': { target: 'paid', actions: assign({ amount: ({ event }) => event.amount ?? null }) } },
    },
    paid: {},
  },
});

const SECRETS = { shop: 'shop-secret-0123456789', stripe: 'whsec_test_0123456789abcdef', gh: 'gh-secret-0123456789abcdef' };

const config: WebhookSourcesInput = {
  sources: [
    {
      name: 'shop',
      kind: 'hmac',
      secret: SECRETS.shop,
      tenant: 'acme',
      map: {
        machine: 'order',
        key: 'order',
        value: { from: '/orderId' },
        event: { type: { from: '/type' }, fields: { amount: { from: '/amount' } } },
      },
    },
    {
      name: 'stripe',
      kind: 'stripe',
      secret: SECRETS.stripe,
      tenant: 'acme',
      when: { '/type': 'payment_intent.succeeded' },
      map: {
        key: 'order',
        value: { from: '/data/object/metadata/orderId' },
        event: { type: 'payment.succeeded', fields: { amount: { from: '/data/object/amount' } } },
      },
    },
    {
      name: 'gh',
      kind: 'github',
      secret: SECRETS.gh,
      tenant: 'acme',
      maxBodyBytes: 2048,
      map: { key: 'order', value: { from: '/check_run/external_id' }, event: { type: 'checks.passed' } },
    },
  ],
};

async function api(deliveries?: WebhookDeliveryStore): Promise<TestApi> {
  return createTestApi({
    machines: [{ machine: order, options: { version: '1', correlation: { order: 'orderId' } } }],
    deps: { webhooks: { sources: parseWebhookSources(config), deliveries } },
  });
}

const hex = (secret: string, payload: string) => createHmac('sha256', secret).update(payload).digest('hex');
const seconds = (t: TestApi, offset = 0) => String(Math.floor(t.runtime.clock.now().getTime() / 1000) + offset);

/** A signed request of each kind, as its sender would make it; `body` is what is sent, `signed` what was signed. */
const senders = {
  shop: (t: TestApi, o: { orderId: string; offset?: number; tamper?: boolean }) => {
    const ts = seconds(t, o.offset);
    const signed = JSON.stringify({ type: 'payment.succeeded', orderId: o.orderId, amount: 4200 });
    const body = o.tamper ? signed.replace('4200', '1') : signed;
    return {
      body,
      headers: { 'x-statekeeper-timestamp': ts, 'x-statekeeper-signature': `sha256=${hex(SECRETS.shop, `${ts}.${signed}`)}` },
    };
  },
  stripe: (t: TestApi, o: { orderId: string; offset?: number; tamper?: boolean; eventId?: string }) => {
    const ts = seconds(t, o.offset);
    const signed = JSON.stringify({
      id: o.eventId ?? 'evt_1',
      type: 'payment_intent.succeeded',
      data: { object: { amount: 4200, metadata: { orderId: o.orderId } } },
    });
    const body = o.tamper ? signed.replace('4200', '1') : signed;
    // A wrong v1 beside the right one, as during a secret roll: any match is enough.
    const header = `t=${ts},v1=${'0'.repeat(64)},v1=${hex(SECRETS.stripe, `${ts}.${signed}`)}`;
    return { body, headers: { 'Stripe-Signature': header } };
  },
  gh: (_t: TestApi, o: { orderId: string; tamper?: boolean; delivery?: string }) => {
    const signed = JSON.stringify({ action: 'completed', check_run: { external_id: o.orderId, conclusion: 'success' } });
    const body = o.tamper ? signed.replace('success', 'failure') : signed;
    return {
      body,
      headers: { 'X-Hub-Signature-256': `sha256=${hex(SECRETS.gh, signed)}`, 'X-GitHub-Delivery': o.delivery ?? 'd2f1c0de-0001' },
    };
  },
};

const post = (t: TestApi, source: string, r: { body: string; headers: Record<string, string> }) =>
  t.call('POST', `/v1/hooks/${source}`, { key: null, raw: r.body, headers: { 'Content-Type': 'application/json', ...r.headers } });

async function start(t: TestApi, orderId: string, key?: string) {
  const r = await t.call('POST', '/v1/machines/order/instances', { body: { input: { orderId }, instanceId: orderId }, key });
  expect(r.status).toBe(201);
  return r.body.id as string;
}

describe.each(['shop', 'stripe', 'gh'] as const)('POST /v1/hooks/%s', (name) => {
  const send = senders[name] as (t: TestApi, o: { orderId: string; offset?: number; tamper?: boolean }) => ReturnType<typeof senders.shop>;
  const expectedState = name === 'gh' ? 'awaitingPayment' : 'paid';

  test('a valid request is delivered to the instance waiting on the mapped value, recorded as from the webhook', async () => {
    const t = await api();
    const id = await start(t, 'A-1');
    const other = await start(t, 'A-2');
    const r = await post(t, name, send(t, { orderId: 'A-1' }));
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: 'delivered', source: name, key: 'order', value: 'A-1' });
    expect(r.body.deliveries).toEqual([expect.objectContaining({ instanceId: id, handled: true, state: expectedState })]);
    const last = (await t.runtime.history(id, { tenant: 'acme' })).at(-1)!;
    expect([last.source, last.actor]).toEqual(['webhook', `webhook:${name}`]);
    if (name !== 'gh') expect(last.payload).toEqual({ amount: 4200 });
    expect(await t.runtime.history(other, { tenant: 'acme' })).toHaveLength(1);
  });

  test('a tampered body is 401 webhook_signature_invalid and changes nothing', async () => {
    const t = await api();
    const id = await start(t, 'A-1');
    const r = await post(t, name, send(t, { orderId: 'A-1', tamper: true }));
    expect([r.status, r.body.error.code]).toEqual([401, 'webhook_signature_invalid']);
    expect((await t.runtime.get(id, { tenant: 'acme' })).version).toBe(1);
    // Nothing was recorded either: the genuine request is taken afterwards.
    expect((await post(t, name, send(t, { orderId: 'A-1' }))).status).toBe(200);
  });

  test('a replayed request is 409 webhook_replayed and changes nothing', async () => {
    const t = await api();
    const id = await start(t, 'A-1');
    const request = send(t, { orderId: 'A-1' });
    expect((await post(t, name, request)).status).toBe(200);
    const version = (await t.runtime.get(id, { tenant: 'acme' })).version;
    const again = await post(t, name, request);
    expect([again.status, again.body.error.code]).toEqual([409, 'webhook_replayed']);
    expect((await t.runtime.get(id, { tenant: 'acme' })).version).toBe(version);
  });

  if (name !== 'gh') {
    test('a timestamp outside the tolerance is refused (401), before or after the window, and changes nothing', async () => {
      const t = await api();
      const id = await start(t, 'A-1');
      for (const offset of [-301, 301]) {
        const r = await post(t, name, send(t, { orderId: 'A-1', offset }));
        expect([r.status, r.body.error.code, r.body.error.message]).toEqual([
          401,
          'webhook_signature_invalid',
          expect.stringContaining('300 s'),
        ]);
      }
      expect((await t.runtime.get(id, { tenant: 'acme' })).version).toBe(1);
      expect((await post(t, name, send(t, { orderId: 'A-1', offset: -299 }))).status).toBe(200);
    });
  }
});

describe('inbound webhooks', () => {
  test('GitHub: without X-GitHub-Delivery a delivery cannot be told from a replay: 401', async () => {
    const t = await api();
    await start(t, 'A-1');
    const { body, headers } = senders.gh(t, { orderId: 'A-1' });
    const r = await post(t, 'gh', { body, headers: { 'X-Hub-Signature-256': headers['X-Hub-Signature-256'] } });
    expect([r.status, r.body.error.code]).toEqual([401, 'webhook_signature_invalid']);
  });

  test('Stripe: a retry of one event under a new signature is a replay; the filter acknowledges other types with 202', async () => {
    const t = await api();
    const id = await start(t, 'A-1');
    expect((await post(t, 'stripe', senders.stripe(t, { orderId: 'A-1' }))).status).toBe(200);
    const retry = await post(t, 'stripe', senders.stripe(t, { orderId: 'A-1', offset: 5 }));
    expect([retry.status, retry.body.error.code]).toEqual([409, 'webhook_replayed']);
    const ts = seconds(t);
    const body = JSON.stringify({ id: 'evt_2', type: 'charge.refunded', data: { object: { metadata: { orderId: 'A-1' } } } });
    const ignored = await post(t, 'stripe', {
      body,
      headers: { 'Stripe-Signature': `t=${ts},v1=${hex(SECRETS.stripe, `${ts}.${body}`)}` },
    });
    expect([ignored.status, ignored.body.status]).toEqual([202, 'ignored']);
    expect(await t.runtime.history(id, { tenant: 'acme' })).toHaveLength(2);
  });

  test('no instance waiting: 404 correlation_not_found, and the id is forgotten so the retry is taken', async () => {
    const t = await api();
    const request = senders.shop(t, { orderId: 'B-7' });
    const early = await post(t, 'shop', request);
    expect([early.status, early.body.error.code]).toEqual([404, 'correlation_not_found']);
    const id = await start(t, 'B-7');
    const retried = await post(t, 'shop', request);
    expect(retried.status).toBe(200);
    expect(retried.body.deliveries[0].instanceId).toBe(id);
  });

  test('the source is bound to its tenant: an instance of another tenant with the value is not reached', async () => {
    const t = await api();
    await start(t, 'C-1', t.keys.otherTenant);
    const r = await post(t, 'shop', senders.shop(t, { orderId: 'C-1' }));
    expect([r.status, r.body.error.code]).toEqual([404, 'correlation_not_found']);
  });

  test('unknown source 404, body over the limit 413, unmappable body 422, none needing an API key; nothing changes', async () => {
    const t = await api();
    const id = await start(t, 'A-1');
    const unknown = await post(t, 'nope', senders.shop(t, { orderId: 'A-1' }));
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'webhook_source_not_found']);
    const big = JSON.stringify({ action: 'completed', check_run: { external_id: 'A-1' }, pad: 'x'.repeat(4096) });
    const tooBig = await post(t, 'gh', {
      body: big,
      headers: { 'X-Hub-Signature-256': `sha256=${hex(SECRETS.gh, big)}`, 'X-GitHub-Delivery': 'd-big' },
    });
    expect([tooBig.status, tooBig.body.error.code]).toEqual([413, 'payload_too_large']);
    const ts = seconds(t);
    const noValue = JSON.stringify({ type: 'payment.succeeded', orderId: { nested: true } });
    const unmappable = await post(t, 'shop', {
      body: noValue,
      headers: { 'x-statekeeper-timestamp': ts, 'x-statekeeper-signature': `sha256=${hex(SECRETS.shop, `${ts}.${noValue}`)}` },
    });
    expect([unmappable.status, unmappable.body.error.code]).toEqual([422, 'webhook_mapping_failed']);
    expect((await t.runtime.get(id, { tenant: 'acme' })).version).toBe(1);
    const doc = await t.call('GET', '/openapi.json', { key: null });
    expect(doc.body.paths['/v1/hooks/{source}'].post.security).toEqual([]);
  });

  test('configuration is validated: a short secret, a bad pointer, a missing secretEnv, a key no machine declares', async () => {
    const base = config.sources[0]!;
    const bad = (patch: Record<string, unknown>) => () => parseWebhookSources({ sources: [{ ...base, ...patch }] }, {});
    expect(bad({ secret: 'short' })).toThrow(/secret/);
    expect(bad({ map: { ...base.map, value: { from: 'orderId' } } })).toThrow(/JSON pointer/);
    expect(bad({ secret: undefined, secretEnv: 'SHOP_HOOK_SECRET' })).toThrow(/SHOP_HOOK_SECRET/);
    expect(bad({ kind: 'paypal' })).toThrow(/kind/);
    expect(parseWebhookSources({ sources: [{ ...base, secret: undefined, secretEnv: 'S' }] }, { S: SECRETS.shop })[0]!.secret).toBe(
      SECRETS.shop,
    );
    const sources = parseWebhookSources({ sources: [{ ...base, map: { ...base.map, key: 'sku' } }] });
    await expect(
      createTestApi({ machines: [{ machine: order, options: { version: '1' } }], deps: { webhooks: { sources } } }),
    ).rejects.toThrow(/correlation key "sku"/);
  });

  test('the README\u2019s configuration example is a valid document', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## Inbound webhooks'));
    const yaml = /```yaml\n([\s\S]*?)```/.exec(section)![1]!;
    const env = { MAIL_HOOK_SECRET: SECRETS.shop, STRIPE_WEBHOOK_SECRET: SECRETS.stripe };
    expect(parseWebhookSources(parseYaml(yaml), env).map((s) => [s.name, s.kind, s.map.key])).toEqual([
      ['mail', 'hmac', 'email'],
      ['stripe', 'stripe', 'order'],
    ]);
  });
});
