import { describe, expect, test } from 'vitest';
import type { StepContext } from '../../runtime/step-types.ts';
import { orderContextSchema, orderFlowV1, orderFlowV2, orderFlowV3 } from '../../test/fixtures/versioned-machines.ts';
import { createTestApi } from '../../test/support/api-test-support.ts';
import { eventually } from '../../test/support/poll.ts';

/** The order flow's v1 and v2 (with a 1 → 2 migration) over the API; steps answer when released. */
async function orderApi() {
  const held = new Map<string, (v: unknown) => void>();
  const hold = (name: string) => (_input: unknown, ctx: StepContext) =>
    new Promise((resolve) => held.set(`${ctx.instanceId}:${name}`, resolve));
  const api = await createTestApi({
    machines: [{ machine: orderFlowV1, options: { version: '1' } }],
    steps: { charge: hold('charge'), notify: hold('notify'), audit: hold('audit') },
  });
  const start = async (key: string) =>
    (await api.call('POST', '/v1/machines/order-flow/instances', { key, body: { input: { amount: 5 } } })).body;
  const a = await start(api.keys.operator);
  const other = await start(api.keys.otherTenant);
  await eventually(async () => held.has(`${a.id}:charge`), 'the charge step to run');
  api.runtime.register(orderFlowV2, { version: '2', contextSchema: orderContextSchema });
  api.runtime.register(orderFlowV3, { version: '3' });
  api.runtime.registerMigration({
    machine: 'order-flow',
    from: '1',
    to: '2',
    stateMap: {},
    context: (c: object) => ({ ...c, currency: 'EUR' }),
  });
  return { api, a, other, held };
}

describe('versions and migration over HTTP', () => {
  test('GET /v1/machines/{id} counts each version\u2019s instances of the caller\u2019s tenant by status', async () => {
    const { api, a } = await orderApi();
    await api.call('POST', '/v1/machines/order-flow/instances', { body: { input: { amount: 6 } } });
    await api.call('POST', `/v1/instances/${a.id}/cancel`, { body: {} });
    const r = await api.call('GET', '/v1/machines/order-flow', { key: api.keys.viewer });
    expect(r.status).toBe(200);
    expect(r.body.versions.map((v: { version: string; instances: unknown }) => [v.version, v.instances])).toEqual([
      ['1', { active: 0, done: 0, error: 0, stopped: 1, total: 1 }],
      ['2', { active: 0, done: 0, error: 0, stopped: 0, total: 0 }],
      ['3', { active: 1, done: 0, error: 0, stopped: 0, total: 1 }],
    ]);
    expect(r.body.unregisteredVersions).toEqual([]);
    const one = await api.call('GET', '/v1/machines/order-flow@1', { key: api.keys.viewer });
    expect(one.body.versions).toMatchObject([{ version: '1', instances: { stopped: 1 } }]);
  });

  test('POST /v1/instances/{id}/migrate: a dry run by default, then the migration, recorded with the caller', async () => {
    const { api, a } = await orderApi();
    const before = await api.call('GET', `/v1/instances/${a.id}`);
    const dry = await api.call('POST', `/v1/instances/${a.id}/migrate`, { key: api.keys.operator, body: { to: '2' } });
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({
      dryRun: true,
      instanceId: a.id,
      from: '1',
      to: '2',
      migration: { kind: 'registered', steps: ['1→2'] },
      context: { added: ['currency'] },
      effects: { planned: [{ kind: 'step', name: 'audit' }] },
    });
    expect((await api.call('GET', `/v1/instances/${a.id}`)).body).toEqual(before.body);

    const body = { to: '2', dryRun: false, reason: 'audit every charge' };
    const done = await api.call('POST', `/v1/instances/${a.id}/migrate`, { key: api.keys.operator, body });
    expect(done.status).toBe(200);
    expect(done.body.effects).toEqual(dry.body.effects);
    expect((await api.call('GET', `/v1/instances/${a.id}`)).body).toMatchObject({ machine: { version: '2' } });
    const history = await api.call('GET', `/v1/instances/${a.id}/history`);
    expect(history.body.items.at(-1)).toMatchObject({
      type: 'statekeeper.migrated',
      source: 'operator',
      payload: { reason: 'audit every charge' },
    });
    const again = await api.call('POST', `/v1/instances/${a.id}/migrate`, { body: { to: '2', dryRun: false } });
    expect([again.status, again.body.error.code]).toEqual([409, 'migration_same_version']);
  });

  test('refusals: 422 with the reason and nothing changed; roles, tenants and bodies are checked', async () => {
    const { api, a, other } = await orderApi();
    const before = await api.call('GET', `/v1/instances/${a.id}`);
    const missing = await api.call('POST', `/v1/instances/${a.id}/migrate`, { body: { to: '3', dryRun: false } });
    expect([missing.status, missing.body.error.code, missing.body.error.details.missingState]).toEqual([
      422,
      'migration_state_missing',
      'working',
    ]);
    expect((await api.call('GET', `/v1/instances/${a.id}`)).body).toEqual(before.body);
    const cases: [string, unknown, number, string][] = [
      [api.keys.viewer, { to: '2' }, 403, 'forbidden'],
      [api.keys.operator, { to: '7' }, 404, 'machine_version_not_found'],
      [api.keys.operator, { to: '2', dryRun: 'no' }, 400, 'validation_failed'],
      [api.keys.operator, { to: '2', force: true }, 400, 'validation_failed'],
      [api.keys.operator, { to: '../2' }, 400, 'validation_failed'],
    ];
    for (const [key, body, status, code] of cases) {
      const r = await api.call('POST', `/v1/instances/${a.id}/migrate`, { key, body });
      expect([r.status, r.body.error.code], JSON.stringify(body)).toEqual([status, code]);
    }
    // Another tenant's instance does not exist for the caller.
    const foreign = await api.call('POST', `/v1/instances/${other.id}/migrate`, { key: api.keys.operator, body: { to: '2' } });
    expect(foreign.status).toBe(404);
    expect((await api.call('GET', `/v1/instances/${a.id}`)).body).toEqual(before.body);
  });
});
