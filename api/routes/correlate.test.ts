import { describe, expect, test } from 'vitest';
import { createTestApi, type TestApi } from '../../test/support/api-test-support.ts';
import { payoutInput, payoutInputSchema, payoutMachine } from '../../test/fixtures/api-machines.ts';

async function api(): Promise<TestApi> {
  return createTestApi({
    machines: [{ machine: payoutMachine, options: { version: '1', inputSchema: payoutInputSchema, correlation: { owner: 'owner.name' } } }],
    steps: { charge: (async () => ({ receipt: 'r-1', token: 'tok_abc' })) as never },
  });
}

async function payout(t: TestApi, id: string, name: string, key?: string): Promise<string> {
  const input = { ...payoutInput(), owner: { name, password: 'pw-123456' } };
  const r = await t.call('POST', '/v1/machines/payout/instances?wait=settled', { body: { input, instanceId: id }, key });
  expect(r.status).toBe(201);
  return r.body.id;
}

const note = (value: string, extra: Record<string, unknown> = {}) => ({
  body: { key: 'owner', value, event: { type: 'payout.note', text: 'checked' }, ...extra },
});

describe('POST /v1/correlate', () => {
  test('delivers to the instance waiting on the value, as /events would, and records the caller', async () => {
    const t = await api();
    const ada = await payout(t, 'p-ada', 'Ada');
    const bob = await payout(t, 'p-bob', 'Bob');
    const r = await t.call('POST', '/v1/correlate', { ...note('Ada'), key: t.keys.operator });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      key: 'owner',
      value: 'Ada',
      deliveries: [{ instanceId: ada, handled: true, duplicate: false, status: 'active', state: 'review', tags: ['waiting'], version: 3 }],
    });
    expect((await t.runtime.history(ada, { tenant: 'acme' })).at(-1)).toMatchObject({ type: 'payout.note', actor: 'apikey:ops' });
    expect(await t.runtime.history(bob, { tenant: 'acme' })).toHaveLength(2);
  });

  test('event checks as for /events: 409 event_not_accepted, 403 event_not_allowed, 422 on a reused key', async () => {
    const t = await api();
    const ada = await payout(t, 'p-ada', 'Ada');
    const unknown = await t.call('POST', '/v1/correlate', { body: { key: 'owner', value: 'Ada', event: { type: 'greeting.confirm' } } });
    const direct = await t.call('POST', `/v1/instances/${ada}/events`, { body: { type: 'greeting.confirm' } });
    expect([unknown.status, unknown.body.error.code]).toEqual([direct.status, direct.body.error.code]);
    expect(unknown.body.error.details.acceptedEvents).toEqual(direct.body.error.details.acceptedEvents);
    const approve = await t.call('POST', '/v1/correlate', { body: { key: 'owner', value: 'Ada', event: { type: 'payout.approve' } } });
    expect([approve.status, approve.body.error.code]).toEqual([403, 'event_not_allowed']);
    const headers = { 'Idempotency-Key': 'note-1' };
    expect((await t.call('POST', '/v1/correlate', { ...note('Ada'), headers })).body.deliveries[0].duplicate).toBe(false);
    expect((await t.call('POST', '/v1/correlate', { ...note('Ada'), headers })).body.deliveries[0].duplicate).toBe(true);
    const other = { key: 'owner', value: 'Ada', event: { type: 'payout.note', text: 'different' } };
    const reused = await t.call('POST', '/v1/correlate', { body: other, headers });
    expect([reused.status, reused.body.error.code]).toEqual([422, 'idempotency_conflict']);
    expect((await t.runtime.history(ada, { tenant: 'acme' })).filter((e) => e.type === 'payout.note')).toHaveLength(1);
  });

  test('none is 404 correlation_not_found, another tenant\u2019s instance included; several are 409 with their ids', async () => {
    const t = await api();
    const mine = await payout(t, 'p-1', 'Ada');
    const theirs = await payout(t, 'p-1', 'Cy', t.keys.otherTenant);
    const missing = await t.call('POST', '/v1/correlate', note('Cy'));
    expect([missing.status, missing.body.error.code]).toEqual([404, 'correlation_not_found']);
    expect(missing.body.error.details).toEqual({ key: 'owner', value: 'Cy' });
    const second = await payout(t, 'p-2', 'Ada');
    const both = await t.call('POST', '/v1/correlate', note('Ada'));
    expect([both.status, both.body.error.code]).toEqual([409, 'correlation_ambiguous']);
    expect(both.body.error.details.instanceIds.sort()).toEqual([mine, second].sort());
    expect(await t.runtime.history(mine, { tenant: 'acme' })).toHaveLength(2);
    const all = await t.call('POST', '/v1/correlate', note('Ada', { all: true, machine: 'payout' }));
    expect(all.status).toBe(200);
    expect(all.body.deliveries.map((d: { instanceId: string }) => d.instanceId).sort()).toEqual([mine, second].sort());
    // The other tenant's Ada-less instance saw nothing.
    expect(await t.runtime.history(theirs, { tenant: 'other' })).toHaveLength(2);
  });

  test('bad requests change nothing: a viewer, unknown fields, an undeclared key, a NUL, an unknown machine', async () => {
    const t = await api();
    const ada = await payout(t, 'p-ada', 'Ada');
    const cases: [Record<string, unknown>, string | null, number, string][] = [
      [note('Ada').body, t.keys.viewer, 403, 'forbidden'],
      [{ ...note('Ada').body, extra: 1 }, null, 400, 'validation_failed'],
      [{ ...note('Ada').body, key: 'sku' }, null, 400, 'invalid_argument'],
      [{ ...note('Ada').body, value: 'A\u0000' }, null, 400, 'validation_failed'],
      [{ ...note('Ada').body, value: 'x'.repeat(257) }, null, 400, 'validation_failed'],
      [{ ...note('Ada').body, machine: 'nope' }, null, 404, 'machine_not_found'],
      [{ ...note('Ada').body, event: { type: 'xstate.init' } }, null, 400, 'invalid_argument'],
    ];
    for (const [body, key, status, code] of cases) {
      const r = await t.call('POST', '/v1/correlate', { body, ...(key && { key }) });
      expect([r.status, r.body.error.code], JSON.stringify(body)).toEqual([status, code]);
    }
    expect(await t.runtime.history(ada, { tenant: 'acme' })).toHaveLength(2);
    const doc = await t.call('GET', '/openapi.json', { key: null });
    expect(Object.keys(doc.body.paths)).toContain('/v1/correlate');
  });
});
