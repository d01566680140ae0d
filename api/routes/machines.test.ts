import { describe, expect, test } from 'vitest';
import { createStandardTestApi } from '../../test/support/api-test-support.ts';
import { payoutMachine } from '../../test/fixtures/api-machines.ts';

describe('machines', () => {
  test('GET /v1/machines lists every machine with its versions (child machines included)', async () => {
    const api = await createStandardTestApi();
    api.runtime.register(payoutMachine.provide({}), { version: '2', description: 'Second payout version' });
    const r = await api.call('GET', '/v1/machines', { key: api.keys.viewer });
    expect(r.status).toBe(200);
    expect(r.body.items.map((m: { id: string }) => m.id)).toEqual([
      'child-flow',
      'deadline',
      'greeting',
      'parent-flow',
      'payout',
      'three-steps',
    ]);
    expect(r.body.items.find((m: { id: string }) => m.id === 'payout')).toEqual({
      id: 'payout',
      description: 'Second payout version',
      versions: ['1', '2'],
      latestVersion: '2',
    });
  });

  test('GET /v1/machines/{id}: states with events and roles, input schema, JSON-safe definition', async () => {
    const api = await createStandardTestApi();
    const r = await api.call('GET', '/v1/machines/payout', { key: api.keys.viewer });
    expect(r.status).toBe(200);
    const [v1] = r.body.versions;
    expect(v1).toMatchObject({ version: '1', ref: 'payout@1', description: 'Charge, then wait for a finance approval.' });
    expect(v1.states.find((s: { path: string }) => s.path === 'review')).toEqual({
      path: 'review',
      type: 'atomic',
      tags: ['waiting'],
      events: [{ type: 'payout.approve', roles: ['finance'] }, { type: 'payout.note' }, { type: 'workflow.cancel' }],
      steps: [],
    });
    expect(v1.states.find((s: { path: string }) => s.path === 'charging').steps).toEqual(['charge']);
    expect(v1.inputSchema).toMatchObject({ type: 'object', required: ['amount', 'cardNumber', 'owner'], additionalProperties: false });
    expect(v1.definition).toMatchObject({ id: 'payout', states: { review: { on: expect.any(Object) } } });
    // Functions became names: the definition survives a JSON round trip unchanged.
    expect(JSON.parse(JSON.stringify(v1.definition))).toEqual(v1.definition);
    expect(JSON.stringify(v1.definition)).toContain('[xstate.assign]');

    const greeting = await api.call('GET', '/v1/machines/greeting@1');
    expect(greeting.body).toMatchObject({ id: 'greeting', latestVersion: '1', versions: [{ ref: 'greeting@1', inputSchema: null }] });
  });

  test('unknown machine or version 404, malformed id 400, no credential 401', async () => {
    const api = await createStandardTestApi();
    expect((await api.call('GET', '/v1/machines/nope')).body.error.code).toBe('machine_not_found');
    expect((await api.call('GET', '/v1/machines/payout@7')).status).toBe(404);
    expect((await api.call('GET', '/v1/machines/pay%20out')).status).toBe(400);
    expect((await api.call('GET', '/v1/machines', { key: null })).status).toBe(401);
  });
});
