import { describe, expect, test } from 'vitest';
import { createStandardTestApi } from '../../test/support/api-test-support.ts';
import { payoutInput } from '../../test/fixtures/api-machines.ts';

const start = (
  api: Awaited<ReturnType<typeof createStandardTestApi>>,
  body: unknown,
  o: { key?: string; headers?: Record<string, string>; query?: string; machine?: string } = {},
) => api.call('POST', `/v1/machines/${o.machine ?? 'payout'}/instances${o.query ?? ''}`, { body, key: o.key, headers: o.headers });

describe('POST /v1/machines/{id}/instances', () => {
  test('starts an instance: 201, Location, redacted context, actor in history', async () => {
    const api = await createStandardTestApi();
    const r = await start(api, { input: payoutInput(), instanceId: 'p-1' }, { key: api.keys.operator });
    expect(r.status).toBe(201);
    expect(r.headers.get('location')).toBe('/v1/instances/p-1');
    expect(r.body).toMatchObject({ id: 'p-1', tenant: 'acme', machine: { id: 'payout', version: '1' }, status: 'active', created: true });
    expect(r.body.context.cardNumber).toBe('[redacted]');
    expect(r.body.context.owner).toEqual({ name: 'Ada', password: '[redacted]' });
    expect(r.body.settled).toBeUndefined();
    const h = await api.runtime.history('p-1', { tenant: 'acme' });
    expect(h[0]).toMatchObject({ type: 'xstate.init', actor: 'apikey:ops' });
  });

  test('?wait=settled answers once the step is done and the instance waits for an event', async () => {
    const api = await createStandardTestApi();
    const r = await start(api, { input: payoutInput() }, { query: '?wait=settled&timeoutMs=5000' });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ state: 'review', settled: true, tags: ['waiting'] });
    expect(r.body.steps).toEqual([
      expect.objectContaining({
        name: 'charge',
        step: 'charge',
        status: 'done',
        attempts: 1,
        input: { amount: 10, apiToken: '[redacted]' },
        result: { receipt: 'r-1', token: '[redacted]' },
      }),
    ]);
    expect(r.body.acceptedEvents).toEqual([
      { type: 'payout.approve', roles: ['finance'] },
      { type: 'payout.note' },
      { type: 'workflow.cancel' },
    ]);
  });

  test('?wait=settled waits for child instances too, and reports settled:false on timeout', async () => {
    let release!: () => void;
    const api = await createStandardTestApi({ charge: () => new Promise((r) => (release = () => r({ receipt: 'late', token: 't' }))) });
    const slow = await start(api, { input: payoutInput() }, { query: '?wait=settled&timeoutMs=50' });
    expect(slow.status).toBe(201);
    expect(slow.body).toMatchObject({ state: 'charging', settled: false });
    expect(slow.body.steps[0]).toMatchObject({ status: 'pending' });
    release();
    const parent = await start(api, {}, { machine: 'parent-flow', query: '?wait=settled' });
    expect(parent.body).toMatchObject({ state: 'running', settled: true });
    expect(parent.body.children).toEqual([expect.objectContaining({ name: 'kid', machine: 'child-flow', status: 'pending' })]);
    const child = await api.call('GET', `/v1/instances/${parent.body.children[0].instanceId}`);
    expect(child.body).toMatchObject({ state: 'waiting', parentId: parent.body.id });
  });

  test('idempotency key: a repeat returns the same instance with 200; another body is 422; nothing else is started', async () => {
    const api = await createStandardTestApi();
    const headers = { 'Idempotency-Key': 'order-42' };
    const first = await start(api, { input: payoutInput() }, { headers });
    const again = await start(api, { input: payoutInput() }, { headers });
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ id: first.body.id, created: false });
    const other = await start(api, { input: payoutInput(99) }, { headers });
    expect(other.status).toBe(422);
    expect(other.body.error.code).toBe('idempotency_conflict');
    const otherId = await start(api, { input: payoutInput(), instanceId: 'different' }, { headers });
    expect(otherId.status).toBe(422);
    expect(otherId.body.error.code).toBe('idempotency_conflict');
    // Keys are per tenant: another tenant's identical key starts its own instance.
    const elsewhere = await start(api, { input: payoutInput() }, { headers, key: api.keys.otherTenant });
    expect(elsewhere.status).toBe(201);
    expect(elsewhere.body.id).not.toBe(first.body.id);
    expect((await api.runtime.list({ tenant: 'acme' })).items).toHaveLength(1);
  });

  test('concurrent starts with one idempotency key create one instance', async () => {
    const api = await createStandardTestApi();
    const results = await Promise.all(
      Array.from({ length: 8 }, () => start(api, { input: payoutInput() }, { headers: { 'Idempotency-Key': 'burst' } })),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 201]);
    expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
    expect((await api.runtime.list({ tenant: 'acme' })).items).toHaveLength(1);
  });

  const validation =
    'validation: input schema 422, unknown fields 400, wrong types 400, bad JSON 400, media type 415, unknown machine 404, taken id 409';
  test(validation, async () => {
    const api = await createStandardTestApi();
    const cases: [unknown, number, string][] = [
      [{ input: { ...payoutInput(), amount: -1 } }, 422, 'input_invalid'],
      [{ input: { ...payoutInput(), extra: true } }, 422, 'input_invalid'],
      [{ input: payoutInput(), colour: 'red' }, 400, 'validation_failed'],
      [{ input: payoutInput(), instanceId: 42 }, 400, 'validation_failed'],
      [{ input: payoutInput(), instanceId: 'has space' }, 400, 'validation_failed'],
      [[1, 2], 400, 'validation_failed'],
    ];
    for (const [body, status, code] of cases) {
      const r = await start(api, body);
      expect([r.status, r.body.error.code], JSON.stringify(body)).toEqual([status, code]);
      expect(r.body.error.requestId).toBeTruthy();
    }
    expect(r400((await api.call('POST', '/v1/machines/payout/instances', { raw: '{"input": ' })).body)).toBe('malformed_json');
    const text = await api.call('POST', '/v1/machines/payout/instances', { raw: 'input=1', headers: { 'Content-Type': 'text/plain' } });
    expect([text.status, text.body.error.code]).toEqual([415, 'unsupported_media_type']);
    const unknown = await start(api, { input: {} }, { machine: 'nope' });
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'machine_not_found']);
    const badVersion = await start(api, { input: payoutInput() }, { machine: 'payout@9' });
    expect([badVersion.status, badVersion.body.error.code]).toEqual([404, 'machine_version_not_found']);
    const badQuery = await start(api, { input: payoutInput() }, { query: '?wait=forever' });
    expect(badQuery.status).toBe(400);
    const tooLong = await start(api, { input: payoutInput() }, { query: '?wait=settled&timeoutMs=60000' });
    expect(tooLong.status).toBe(400);
    expect((await api.runtime.list({ tenant: 'acme' })).items).toHaveLength(0);
    await start(api, { input: payoutInput(), instanceId: 'taken' });
    const taken = await start(api, { input: payoutInput(), instanceId: 'taken' });
    expect([taken.status, taken.body.error.code]).toEqual([409, 'instance_exists']);
    expect(api.errors).toEqual([]);
  });

  test('a body over the limit is refused with 413 and starts nothing', async () => {
    const api = await createStandardTestApi({ deps: { bodyLimitBytes: 2048 } });
    const big = { input: { ...payoutInput(), note: 'x'.repeat(4096) } };
    const r = await start(api, big);
    expect([r.status, r.body.error.code]).toEqual([413, 'payload_too_large']);
    // Without a Content-Length header (streamed body) the limit holds as well.
    const stream = new ReadableStream({ start: (c) => (c.enqueue(new TextEncoder().encode(JSON.stringify(big))), c.close()) });
    const res = await api.app.request('/v1/machines/payout/instances', {
      method: 'POST',
      body: stream,
      headers: { Authorization: `Bearer ${api.keys.admin}`, 'Content-Type': 'application/json' },
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect((await api.runtime.list({ tenant: 'acme' })).items).toHaveLength(0);
  });

  test('roles: a viewer cannot start (403), a missing or bad credential is 401', async () => {
    const api = await createStandardTestApi();
    const viewer = await start(api, { input: payoutInput() }, { key: api.keys.viewer });
    expect([viewer.status, viewer.body.error.code]).toEqual([403, 'forbidden']);
    const none = await api.call('POST', '/v1/machines/payout/instances', { body: { input: payoutInput() }, key: null });
    expect([none.status, none.body.error.code]).toEqual([401, 'unauthorized']);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    const bad = await start(api, { input: payoutInput() }, { key: `${api.keys.admin.slice(0, -2)}xx` });
    expect(bad.status).toBe(401);
    expect((await api.runtime.list({ tenant: 'acme' })).items).toHaveLength(0);
  });
});

describe('GET /v1/instances/{id}', () => {
  test('shows status, state, redacted context, tags, accepted events, steps and timers', async () => {
    const api = await createStandardTestApi();
    const { body: started } = await start(
      api,
      { input: { name: 'Ada', reminderAfterMs: 60_000 } },
      { machine: 'greeting', query: '?wait=settled' },
    );
    const r = await api.call('GET', `/v1/instances/${started.id}`, { key: api.keys.viewer });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      id: started.id,
      status: 'active',
      state: 'awaitingConfirmation',
      tags: ['waiting'],
      context: { name: 'Ada', message: 'Hello, Ada!' },
      version: 2,
    });
    expect(r.body.acceptedEvents).toEqual([{ type: 'greeting.cancel' }, { type: 'greeting.confirm' }]);
    expect(r.body.steps).toEqual([expect.objectContaining({ name: 'compose', step: 'composeGreeting', status: 'done' })]);
    expect(r.body.timers).toEqual([expect.objectContaining({ status: 'pending', dueAt: '2030-01-01T00:01:00.000Z' })]);
    expect(typeof r.body.createdAt).toBe('string');
  });

  test('unknown id 404, malformed id 400', async () => {
    const api = await createStandardTestApi();
    const r = await api.call('GET', '/v1/instances/nope');
    expect([r.status, r.body.error.code]).toEqual([404, 'instance_not_found']);
    const bad = await api.call('GET', `/v1/instances/${encodeURIComponent('a b')}`);
    expect([bad.status, bad.body.error.code]).toEqual([400, 'validation_failed']);
  });
});

describe('GET /v1/instances', () => {
  test('filters, cursor pagination in a stable order, tenant scope', async () => {
    const api = await createStandardTestApi();
    for (let i = 0; i < 5; i++) await start(api, { input: payoutInput(i + 1), instanceId: `p-${i}` });
    await start(api, { input: { name: 'x' } }, { machine: 'greeting', query: '?wait=settled' });
    await start(api, { input: payoutInput() }, { key: api.keys.otherTenant });
    await api.sim.settle();
    await api.call('POST', '/v1/instances/p-0/events', { body: { type: 'payout.approve' }, key: api.keys.finance });

    const all = await api.call('GET', '/v1/instances?limit=50', { key: api.keys.viewer });
    expect(all.body.items).toHaveLength(6);
    expect(all.body.items.every((i: { tenant: string }) => i.tenant === 'acme')).toBe(true);

    const pages: string[] = [];
    let cursor: string | null = null;
    do {
      const r: { body: { items: { id: string }[]; nextCursor: string | null } } = await api.call(
        'GET',
        `/v1/instances?machine=payout&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      pages.push(...r.body.items.map((i) => i.id));
      cursor = r.body.nextCursor;
    } while (cursor);
    expect(pages).toHaveLength(5);
    expect(new Set(pages).size).toBe(5);
    expect(pages).toEqual((await api.call('GET', '/v1/instances?machine=payout')).body.items.map((i: { id: string }) => i.id));

    expect((await api.call('GET', '/v1/instances?status=done')).body.items.map((i: { id: string }) => i.id)).toEqual(['p-0']);
    expect((await api.call('GET', '/v1/instances?status=active,done&machine=payout&version=1')).body.items).toHaveLength(5);
    expect((await api.call('GET', '/v1/instances?state=review')).body.items).toHaveLength(4);
    expect((await api.call('GET', '/v1/instances?state=waiting&machine=greeting')).body.items).toHaveLength(1);
    expect((await api.call('GET', '/v1/instances?createdAfter=2031-01-01T00:00:00Z')).body.items).toHaveLength(0);
    expect(
      (await api.call('GET', '/v1/instances?createdBefore=2031-01-01T00:00:00Z&updatedAfter=2029-01-01T00:00:00Z')).body.items,
    ).toHaveLength(6);
  });

  test('lists child instances by parent', async () => {
    const api = await createStandardTestApi();
    const parent = await start(api, {}, { machine: 'parent-flow', query: '?wait=settled' });
    const r = await api.call('GET', `/v1/instances?parent=${encodeURIComponent(parent.body.id)}`);
    expect(r.body.items).toEqual([expect.objectContaining({ machine: { id: 'child-flow', version: '1' }, parentId: parent.body.id })]);
  });

  test('bad filters are 400', async () => {
    const api = await createStandardTestApi();
    for (const q of ['status=sleeping', 'limit=0', 'limit=501', 'createdAfter=yesterday', 'cursor=garbage', 'colour=red']) {
      const r = await api.call('GET', `/v1/instances?${q}`);
      expect([r.status, r.body.error.code], q).toEqual([400, q.startsWith('cursor') ? 'invalid_argument' : 'validation_failed']);
    }
  });
});

function r400(body: { error: { code: string } }): string {
  return body.error.code;
}
