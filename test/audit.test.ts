/**
 * The seven-phase audit (machines/workflows/audit.yaml) end to end over HTTP:
 * users of each role work their phases' tasks, other roles get 403, the
 * parallel branches join before Request Info, schedule status follows the
 * simulated clock, and a test manager's overrides are recorded with reasons.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { createApiKey } from '../api/auth/api-keys.ts';
import { BUNDLED_DEFINITIONS_DIR } from '../api/workflows.ts';
import { createCatalog, DefinitionService, MemoryDefinitionStore } from '../definitions/index.ts';
import { createTestApi } from './support/api-test-support.ts';

const DAY = 86_400_000;
const auditYaml = readFileSync(path.join(BUNDLED_DEFINITIONS_DIR, 'audit.yaml'), 'utf8');

async function openAudit() {
  let definitions!: DefinitionService;
  const api = await createTestApi({
    machines: [],
    definitions: (runtime) => (definitions = new DefinitionService(runtime, createCatalog(), new MemoryDefinitionStore())),
  });
  await definitions.registerPhases(auditYaml);
  const key = async (name: string, roles: string) => (await createApiKey(api.store, { tenant: 'acme', name, roles })).key;
  const users = {
    tester: await key('tess', 'operator,tester'),
    cdo: await key('cody', 'operator,cdo'),
    manager: await key('mona', 'operator,test_manager'),
  };
  const start = async (input: unknown) => {
    const r = await api.call('POST', '/v1/machines/audit/instances', { body: { input }, key: users.manager });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body.id as string;
  };
  const progress = async (id: string) => {
    const r = await api.call('GET', `/v1/instances/${id}`, { key: users.tester });
    expect(r.status).toBe(200);
    return r.body.progress as {
      phases: {
        id: string;
        status: string;
        schedule: string | null;
        tasks: { id: string; roles: string[] }[];
        dueAt: string | null;
        atRiskAt: string | null;
      }[];
      overrideRoles: string[];
    };
  };
  const phase = async (id: string, phaseId: string) => (await progress(id)).phases.find((p) => p.id === phaseId)!;
  const status = async (id: string) => Object.fromEntries((await progress(id)).phases.map((p) => [p.id, p.status]));
  /** The one open task of a phase, completed by `user` with `answer`; returns the HTTP answer. */
  const complete = async (id: string, phaseId: string, user: string, answer?: unknown) => {
    const [task] = (await phase(id, phaseId)).tasks;
    if (!task) throw new Error(`phase ${phaseId} has no open task`);
    return api.call('POST', `/v1/tasks/${task.id}/complete`, { body: answer === undefined ? {} : { answer }, key: user });
  };
  const ok = async (id: string, phaseId: string, user: string, answer?: unknown) => {
    const r = await complete(id, phaseId, user, answer);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
  };
  return { api, users, start, progress, phase, status, complete, ok };
}

describe('the seven-phase audit over HTTP', () => {
  test('each role works its phases; other roles get 403; the parallel branches join before Request Info', async () => {
    const { api, users, start, progress, phase, status, complete, ok } = await openAudit();
    const id = await start({ reportId: 'R-7', reportType: 'regulatory' });
    const first = await progress(id);
    expect(first.overrideRoles).toEqual(['test_manager']);
    expect(first.phases.map((p) => [p.id, p.status])).toEqual([
      ['planning', 'in_progress'],
      ['scoping', 'not_started'],
      ['sample_selection', 'not_started'],
      ['data_provider_id', 'not_started'],
      ['request_info', 'not_started'],
      ['testing', 'not_started'],
      ['observations', 'not_started'],
    ]);
    expect(first.phases[0]).toMatchObject({ schedule: 'on_schedule', tasks: [{ roles: ['tester', 'test_manager'] }] });
    expect(first.phases[0]!.atRiskAt).toBe(new Date(Date.parse('2030-01-01T00:00:00Z') + 0.75 * 7 * DAY).toISOString());
    expect(first.phases[0]!.dueAt).toBe(new Date(Date.parse('2030-01-01T00:00:00Z') + 7 * DAY).toISOString());

    // A CDO cannot act in Planning, neither through the task nor by sending its event.
    expect((await complete(id, 'planning', users.cdo, { summary: 'x' })).status).toBe(403);
    const direct = await api.call('POST', `/v1/instances/${id}/events`, {
      body: { type: 'planning.create_test_plan.done' },
      key: users.cdo,
    });
    expect([direct.status, direct.body.error.code]).toEqual([403, 'event_not_allowed']);
    // An answer failing the plan's form changes nothing.
    const bad = await complete(id, 'planning', users.tester, { summary: '' });
    expect([bad.status, bad.body.error.code]).toEqual([422, 'answer_invalid']);
    await ok(id, 'planning', users.tester, { summary: 'test the liquidity report' });
    // Approval is the test manager's task alone.
    expect((await complete(id, 'planning', users.tester)).status).toBe(403);
    await ok(id, 'planning', users.manager);
    await ok(id, 'scoping', users.tester, { attributes: ['balance', 'currency'] });
    await ok(id, 'scoping', users.manager);

    // Sample Selection (testers) and Data Provider ID (CDO) run in parallel.
    expect(await status(id)).toMatchObject({ scoping: 'completed', sample_selection: 'in_progress', data_provider_id: 'in_progress' });
    const inbox = async (user: string, q = '') =>
      (await api.call('GET', `/v1/tasks${q}`, { key: user })).body.items.map((t: { title: string }) => t.title);
    expect(await inbox(users.tester)).toEqual(['Generate and review the samples']);
    expect(await inbox(users.cdo)).toEqual(['Identify and assign the data providers']);
    expect(await inbox(users.manager, '?role=cdo')).toEqual([]);
    // A tester acting in the CDO's phase: 403.
    const tester = await complete(id, 'data_provider_id', users.tester, { providers: ['core banking'] });
    expect([tester.status, tester.body.error.code]).toEqual([403, 'task_not_allowed']);
    const testerEvent = await api.call('POST', `/v1/instances/${id}/events`, {
      body: { type: 'data_provider_id.identify_providers.done', answer: { providers: ['x'] } },
      key: users.tester,
    });
    expect(testerEvent.status).toBe(403);

    // The join waits for both branches.
    await ok(id, 'sample_selection', users.tester, { sample_size: 25 });
    expect(await status(id)).toMatchObject({ sample_selection: 'completed', data_provider_id: 'in_progress', request_info: 'not_started' });
    await ok(id, 'data_provider_id', users.cdo, { providers: ['core banking', 'treasury'] });
    expect(await status(id)).toMatchObject({ data_provider_id: 'completed', request_info: 'in_progress' });

    await ok(id, 'request_info', users.tester, { complete: true });
    await ok(id, 'testing', users.tester, { passed: 24, failed: 1 });
    await ok(id, 'observations', users.tester, { observations: ['one sample misclassified'] });
    expect((await phase(id, 'observations')).tasks).toEqual([expect.objectContaining({ roles: ['test_manager'] })]);
    await ok(id, 'observations', users.manager);
    const done = await api.call('GET', `/v1/instances/${id}`, { key: users.tester });
    expect(done.body.status).toBe('done');
    expect(done.body.output.phases.data_provider_id.answers).toEqual({ identify_providers: { providers: ['core banking', 'treasury'] } });
    expect(done.body.progress.phases.every((p: { status: string }) => p.status === 'completed')).toBe(true);
  });

  test('an internal report has no Data Provider ID phase: Request Info follows Sample Selection alone', async () => {
    const { users, start, status, ok } = await openAudit();
    const id = await start({ reportId: 'R-8', reportType: 'internal' });
    await ok(id, 'planning', users.tester, { summary: 'p' });
    await ok(id, 'planning', users.manager);
    await ok(id, 'scoping', users.tester, { attributes: ['a'] });
    await ok(id, 'scoping', users.manager);
    expect(await status(id)).toMatchObject({ sample_selection: 'in_progress', data_provider_id: 'skipped' });
    await ok(id, 'sample_selection', users.tester, { sample_size: 3 });
    expect(await status(id)).toMatchObject({ request_info: 'in_progress' });
  });

  test('schedule status per phase: on_schedule → at_risk at 75% of the SLA → behind_schedule, in history and as events', async () => {
    const { api, users, start, phase } = await openAudit();
    const id = await start({ reportId: 'R-9' });
    await api.sim.advance(0.75 * 7 * DAY - 1);
    expect((await phase(id, 'planning')).schedule).toBe('on_schedule');
    await api.sim.advance(1);
    expect((await phase(id, 'planning')).schedule).toBe('at_risk');
    await api.sim.advance(0.25 * 7 * DAY);
    expect(await phase(id, 'planning')).toMatchObject({ schedule: 'behind_schedule', dueAt: null });
    const history = (await api.call('GET', `/v1/instances/${id}/history`, { key: users.tester })).body.items as {
      type: string;
      source: string;
      state: any;
    }[];
    const timers = history.filter((e) => e.source === 'timer');
    expect(timers.map((e) => e.state.running.planning.active.schedule)).toEqual(['at_risk', 'behind_schedule']);
    const outbox = (api.sim.store as unknown as { outbox: { instanceId: string; type: string }[] }).outbox;
    expect(outbox.filter((o) => o.instanceId === id).map((o) => o.type)).toEqual(['phase.at_risk', 'phase.behind_schedule']);
  });

  test('overrides: only a test manager, only with a reason; recorded with actor, time and reason in history', async () => {
    const { api, users, start, phase, status } = await openAudit();
    const id = await start({ reportId: 'R-10' });
    await api.sim.advance(6 * DAY);
    expect((await phase(id, 'planning')).schedule).toBe('at_risk');
    const send = (body: unknown, key: string) => api.call('POST', `/v1/instances/${id}/events`, { body, key });
    const byTester = await send({ type: 'phase.extend', phase: 'planning', days: 5, reason: 'late data' }, users.tester);
    expect([byTester.status, byTester.body.error.code]).toEqual([403, 'event_not_allowed']);
    const noReason = await send({ type: 'phase.extend', phase: 'planning', days: 5 }, users.manager);
    expect([noReason.status, noReason.body.error.code]).toEqual([409, 'event_not_accepted']);
    const extended = await send({ type: 'phase.extend', phase: 'planning', days: 5, reason: 'the bank sent the data late' }, users.manager);
    expect(extended.status).toBe(200);
    expect(await phase(id, 'planning')).toMatchObject({
      schedule: 'on_schedule',
      dueAt: new Date(Date.parse('2030-01-01T00:00:00Z') + 11 * DAY).toISOString(),
    });
    expect(
      (await send({ type: 'phase.complete', phase: 'planning', reason: 'plan agreed in the kick-off meeting' }, users.manager)).status,
    ).toBe(200);
    expect(await status(id)).toMatchObject({ planning: 'completed', scoping: 'in_progress' });
    const history = (await api.call('GET', `/v1/instances/${id}/history`, { key: users.tester })).body.items as any[];
    const overrides = history.filter((e) => e.type.startsWith('phase.'));
    expect(overrides.map((e) => [e.type, e.actor, e.payload.reason, e.createdAt])).toEqual([
      ['phase.extend', 'apikey:mona', 'the bank sent the data late', new Date(Date.parse('2030-01-01T00:00:00Z') + 6 * DAY).toISOString()],
      [
        'phase.complete',
        'apikey:mona',
        'plan agreed in the kick-off meeting',
        new Date(Date.parse('2030-01-01T00:00:00Z') + 6 * DAY).toISOString(),
      ],
    ]);
  });
});
