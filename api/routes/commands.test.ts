import { describe, expect, test } from 'vitest';
import { createStandardTestApi, type TestApi } from '../../test/support/api-test-support.ts';
import { payoutInput } from '../../test/fixtures/api-machines.ts';

async function payout(api: TestApi, id = 'p-1'): Promise<string> {
  const r = await api.call('POST', '/v1/machines/payout/instances?wait=settled', { body: { input: payoutInput(), instanceId: id } });
  expect(r.status).toBe(201);
  return r.body.id;
}

describe('POST /v1/instances/{id}/events', () => {
  test('applies the event and answers with the committed state; the actor is recorded', async () => {
    const api = await createStandardTestApi();
    const id = await payout(api);
    const r = await api.call('POST', `/v1/instances/${id}/events`, {
      body: { type: 'payout.note', text: 'checked' },
      key: api.keys.operator,
    });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      instanceId: id,
      handled: true,
      duplicate: false,
      status: 'active',
      state: 'review',
      tags: ['waiting'],
      version: 3,
    });
    const approve = await api.call('POST', `/v1/instances/${id}/events`, { body: { type: 'payout.approve' }, key: api.keys.finance });
    expect(approve.body).toMatchObject({ handled: true, status: 'done', state: 'approved', version: 4 });
    const h = await api.runtime.history(id, { tenant: 'acme' });
    expect(h.slice(2).map((e) => [e.type, e.actor, e.payload])).toEqual([
      ['payout.note', 'apikey:ops', { text: 'checked' }],
      ['payout.approve', 'apikey:fin', null],
    ]);
  });

  test('an event the state does not accept is 409 with the accepted events, and nothing is stored', async () => {
    const api = await createStandardTestApi();
    const id = await payout(api);
    const r = await api.call('POST', `/v1/instances/${id}/events`, { body: { type: 'greeting.confirm' } });
    expect(r.status).toBe(409);
    expect(r.body.error).toMatchObject({
      code: 'event_not_accepted',
      details: {
        state: 'review',
        acceptedEvents: [{ type: 'payout.approve', roles: ['finance'] }, { type: 'payout.note' }, { type: 'workflow.cancel' }],
      },
    });
    expect(await api.runtime.history(id, { tenant: 'acme' })).toHaveLength(2);
  });

  test('event-level roles: 403 without the role the state declares; route-level: a viewer cannot send', async () => {
    const api = await createStandardTestApi();
    const id = await payout(api);
    const admin = await api.call('POST', `/v1/instances/${id}/events`, { body: { type: 'payout.approve' } });
    expect(admin.status).toBe(403);
    expect(admin.body.error).toMatchObject({ code: 'event_not_allowed', details: { requiredRoles: ['finance'] } });
    const viewer = await api.call('POST', `/v1/instances/${id}/events`, { body: { type: 'payout.note', text: 'x' }, key: api.keys.viewer });
    expect([viewer.status, viewer.body.error.code]).toEqual([403, 'forbidden']);
    expect(await api.runtime.history(id, { tenant: 'acme' })).toHaveLength(2);
  });

  test('idempotency key: a repeat is applied once (duplicate: true); a different event under the key is 422', async () => {
    const api = await createStandardTestApi();
    const id = await payout(api);
    const send = (body: unknown, key = 'note-1') =>
      api.call('POST', `/v1/instances/${id}/events`, { body, headers: { 'Idempotency-Key': key } });
    const first = await send({ type: 'payout.note', text: 'a' });
    const again = await send({ text: 'a', type: 'payout.note' });
    expect(first.body).toMatchObject({ handled: true, duplicate: false, version: 3 });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ handled: true, duplicate: true, version: 3 });
    const other = await send({ type: 'payout.note', text: 'b' });
    expect([other.status, other.body.error.code]).toEqual([422, 'idempotency_conflict']);
    expect((await api.runtime.get(id, { tenant: 'acme' })).context).toMatchObject({ notes: ['a'] });
  });

  test('concurrent sends with one idempotency key apply the event once', async () => {
    const api = await createStandardTestApi();
    const id = await payout(api);
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        api.call('POST', `/v1/instances/${id}/events`, {
          body: { type: 'payout.note', text: 'once' },
          headers: { 'Idempotency-Key': 'k' },
        }),
      ),
    );
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(results.filter((r) => !r.body.duplicate)).toHaveLength(1);
    expect((await api.runtime.get(id, { tenant: 'acme' })).context).toMatchObject({ notes: ['once'] });
    expect((await api.runtime.history(id, { tenant: 'acme' })).map((e) => e.seq)).toEqual([1, 2, 3]);
  });

  test('bad bodies: missing or empty type 400, reserved xstate.* type 400, bad JSON 400, finished instance 409, unknown 404', async () => {
    const api = await createStandardTestApi();
    const id = await payout(api);
    for (const body of [{}, { type: '' }, { type: 7 }, [], 'text']) {
      const r = await api.call('POST', `/v1/instances/${id}/events`, { body });
      expect([r.status, r.body.error.code], JSON.stringify(body)).toEqual([400, 'validation_failed']);
    }
    const reserved = await api.call('POST', `/v1/instances/${id}/events`, { body: { type: 'xstate.done.actor.charge', output: {} } });
    expect([reserved.status, reserved.body.error.code]).toEqual([400, 'invalid_argument']);
    const malformed = await api.call('POST', `/v1/instances/${id}/events`, { raw: '{"type":' });
    expect([malformed.status, malformed.body.error.code]).toEqual([400, 'malformed_json']);
    const missing = await api.call('POST', '/v1/instances/ghost/events', { body: { type: 'payout.note' } });
    expect([missing.status, missing.body.error.code]).toEqual([404, 'instance_not_found']);
    expect(await api.runtime.history(id, { tenant: 'acme' })).toHaveLength(2);
    await api.call('POST', `/v1/instances/${id}/events`, { body: { type: 'payout.approve' }, key: api.keys.finance });
    const late = await api.call('POST', `/v1/instances/${id}/events`, { body: { type: 'payout.note', text: 'late' } });
    expect([late.status, late.body.error.code]).toEqual([409, 'instance_not_active']);
  });
});

describe('POST /v1/instances/{id}/retry', () => {
  test('sends operator.retry when the state accepts it; otherwise handled:false and nothing changes', async () => {
    let fail = true;
    const api = await createStandardTestApi({
      charge: async () => {
        if (fail) throw new Error('card declined');
        return { receipt: 'r-2', token: 't' };
      },
    });
    const id = await payout(api);
    const failed = await api.call('GET', `/v1/instances/${id}`);
    expect(failed.body).toMatchObject({ state: 'chargeFailed' });
    expect(failed.body.steps[0]).toMatchObject({ status: 'failed', error: expect.objectContaining({ message: 'card declined' }) });
    const viewer = await api.call('POST', `/v1/instances/${id}/retry`, { key: api.keys.viewer });
    expect(viewer.status).toBe(403);
    fail = false;
    const r = await api.call('POST', `/v1/instances/${id}/retry`, { key: api.keys.operator });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ handled: true, state: 'charging' });
    await api.sim.settle();
    const again = await api.call('POST', `/v1/instances/${id}/retry`, { key: api.keys.operator, body: {} });
    expect(again.body).toMatchObject({ handled: false, state: 'review' });
    const h = await api.runtime.history(id, { tenant: 'acme' });
    expect(h.filter((e) => e.type === 'operator.retry')).toEqual([expect.objectContaining({ source: 'operator', actor: 'apikey:ops' })]);
    const extra = await api.call('POST', `/v1/instances/${id}/retry`, { body: { force: true } });
    expect(extra.status).toBe(400);
  });
});

describe('POST /v1/instances/{id}/cancel', () => {
  test('sends workflow.cancel when the machine defines it; repeating is harmless', async () => {
    const api = await createStandardTestApi();
    const id = await payout(api);
    const r = await api.call('POST', `/v1/instances/${id}/cancel`, { body: { reason: 'customer asked' }, key: api.keys.operator });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: 'done', state: 'cancelled' });
    const again = await api.call('POST', `/v1/instances/${id}/cancel`, { key: api.keys.operator });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ status: 'done', state: 'cancelled', version: r.body.version });
    const h = await api.runtime.history(id, { tenant: 'acme' });
    expect(h.at(-1)).toMatchObject({
      type: 'workflow.cancel',
      payload: { reason: 'customer asked' },
      source: 'operator',
      actor: 'apikey:ops',
    });
  });

  test('stops an instance whose machine has no workflow.cancel; a viewer may not; bad bodies are 400', async () => {
    const api = await createStandardTestApi();
    const { body } = await api.call('POST', '/v1/machines/deadline/instances', { body: {} });
    expect((await api.call('POST', `/v1/instances/${body.id}/cancel`, { key: api.keys.viewer })).status).toBe(403);
    expect((await api.call('POST', `/v1/instances/${body.id}/cancel`, { body: { reason: 5 } })).status).toBe(400);
    expect((await api.call('POST', `/v1/instances/${body.id}/cancel`, { body: { why: 'x' } })).status).toBe(400);
    const r = await api.call('POST', `/v1/instances/${body.id}/cancel`, {});
    expect(r.body).toMatchObject({ status: 'stopped', timers: [expect.objectContaining({ status: 'cancelled' })] });
    expect((await api.runtime.history(body.id, { tenant: 'acme' })).at(-1)).toMatchObject({
      type: 'statekeeper.stop',
      actor: 'apikey:admin',
    });
    const again = await api.call('POST', `/v1/instances/${body.id}/cancel`, {});
    expect([again.status, again.body.status]).toEqual([200, 'stopped']);
  });
});

describe('POST /v1/instances/{id}/pause and /resume', () => {
  test('pause → an event is 409 instance_paused, nothing stored → resume → the event is applied; actor and reason recorded', async () => {
    const api = await createStandardTestApi();
    const id = await payout(api);
    const p = await api.call('POST', `/v1/instances/${id}/pause`, { body: { reason: 'bank holiday' }, key: api.keys.operator });
    expect(p.status).toBe(200);
    expect(p.body).toMatchObject({ id, paused: true, status: 'active', version: 3 });
    expect((await api.call('GET', `/v1/instances/${id}`)).body.paused).toBe(true);
    const refused = await api.call('POST', `/v1/instances/${id}/events`, {
      body: { type: 'payout.note', text: 'x' },
      key: api.keys.operator,
    });
    expect([refused.status, refused.body.error.code]).toEqual([409, 'instance_paused']);
    const again = await api.call('POST', `/v1/instances/${id}/pause`, { key: api.keys.operator });
    expect(again.body).toMatchObject({ paused: true, version: 3 });
    const r = await api.call('POST', `/v1/instances/${id}/resume`, { body: { reason: 'bank open' }, key: api.keys.operator });
    expect(r.body).toMatchObject({ paused: false, version: 4 });
    const sent = await api.call('POST', `/v1/instances/${id}/events`, { body: { type: 'payout.note', text: 'x' }, key: api.keys.operator });
    expect(sent.body).toMatchObject({ handled: true, version: 5 });
    const h = await api.runtime.history(id, { tenant: 'acme' });
    expect(h.slice(2).map((e) => [e.type, e.source, e.actor, e.payload])).toEqual([
      ['statekeeper.pause', 'operator', 'apikey:ops', { reason: 'bank holiday' }],
      ['statekeeper.resume', 'operator', 'apikey:ops', { reason: 'bank open' }],
      ['payout.note', 'api', 'apikey:ops', { text: 'x' }],
    ]);
  });

  test('a finished instance is 409 instance_not_active; bad bodies 400, viewer 403, unknown id 404: none changes anything', async () => {
    const api = await createStandardTestApi();
    const id = await payout(api);
    expect((await api.call('POST', `/v1/instances/${id}/pause`, { key: api.keys.viewer })).status).toBe(403);
    for (const body of [{ reason: '' }, { reason: 5 }, { why: 'x' }, { reason: 'x'.repeat(501) }]) {
      const r = await api.call('POST', `/v1/instances/${id}/pause`, { body });
      expect([r.status, r.body.error.code]).toEqual([400, 'validation_failed']);
    }
    expect((await api.call('POST', '/v1/instances/nope/pause', {})).status).toBe(404);
    expect(await api.runtime.history(id, { tenant: 'acme' })).toHaveLength(2);
    await api.call('POST', `/v1/instances/${id}/cancel`, { key: api.keys.operator });
    const finished = await api.runtime.get(id, { tenant: 'acme' });
    const r = await api.call('POST', `/v1/instances/${id}/pause`, { key: api.keys.operator });
    expect([r.status, r.body.error.code]).toEqual([409, 'instance_not_active']);
    expect((await api.runtime.get(id, { tenant: 'acme' })).version).toBe(finished.version);
  });
});

describe('POST /v1/instances/{id}/restart', () => {
  test('201 with the new instance linked by restartOf, even for a finished one; viewer 403, bad body 400, unknown 404', async () => {
    const api = await createStandardTestApi();
    const id = await payout(api);
    await api.call('POST', `/v1/instances/${id}/cancel`, { key: api.keys.operator });
    expect((await api.call('POST', `/v1/instances/${id}/restart`, { key: api.keys.viewer })).status).toBe(403);
    const bad = await api.call('POST', `/v1/instances/${id}/restart`, { body: { why: 'x' } });
    expect([bad.status, bad.body.error.code]).toEqual([400, 'validation_failed']);
    expect((await api.call('POST', '/v1/instances/nope/restart', {})).status).toBe(404);
    expect(await api.runtime.history(id, { tenant: 'acme' })).toHaveLength(3);
    const r = await api.call('POST', `/v1/instances/${id}/restart`, { body: { reason: 'paid by hand' }, key: api.keys.operator });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ restartOf: id, status: 'active', machine: { id: 'payout' } });
    expect((await api.call('GET', `/v1/instances/${r.body.id}`)).body.restartOf).toBe(id);
    expect((await api.runtime.history(id, { tenant: 'acme' })).at(-1)).toMatchObject({
      type: 'statekeeper.restarted',
      actor: 'apikey:ops',
      payload: { restartedAs: r.body.id, reason: 'paid by hand' },
    });
  });
});
