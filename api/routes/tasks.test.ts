import { describe, expect, test } from 'vitest';
import { createApiKey } from '../auth/api-keys.ts';
import { createTestApi } from '../../test/support/api-test-support.ts';
import { DAY_MS, taskReview } from '../../test/fixtures/task-machines.ts';

async function setupApi() {
  const api = await createTestApi({ machines: [{ machine: taskReview, options: { version: '1' } }] });
  const key = async (name: string, roles: string, tenant = 'acme') => (await createApiKey(api.store, { tenant, name, roles })).key;
  const keys = {
    writer: await key('wendy', 'operator,writer'),
    reviewer: await key('rita', 'operator,reviewer'),
    reviewer2: await key('rob', 'operator,reviewer'),
    boss: await key('boss', 'operator'),
    viewerReviewer: await key('vic', 'viewer,reviewer'),
  };
  const start = async () => {
    const r = await api.call('POST', '/v1/machines/task-review/instances', { body: {} });
    expect(r.status).toBe(201);
    return r.body.id as string;
  };
  return { api, keys, start };
}

describe('task inbox over HTTP', () => {
  test('GET /v1/tasks lists what the caller may act on; role, assignee, machine and overdue filter it', async () => {
    const { api, keys, start } = await setupApi();
    const a = await start();
    const b = await start();
    await api.call('POST', `/v1/instances/${a}/events`, { body: { type: 'draft.submit' }, key: keys.writer });
    const list = async (key: string, query = '') => {
      const r = await api.call('GET', `/v1/tasks${query}`, { key });
      expect(r.status).toBe(200);
      return r.body.items.map((t: { id: string }) => t.id);
    };
    expect(await list(keys.writer)).toEqual([`${b}:task-review.drafting:1`]);
    expect(await list(keys.reviewer)).toEqual([`${a}:task-review.review:2`]);
    expect(await list(keys.reviewer, '?role=writer')).toEqual([]);
    expect(await list(keys.reviewer, '?machine=task-review&overdue=false')).toEqual([`${a}:task-review.review:2`]);
    expect(await list(keys.reviewer, '?overdue=true')).toEqual([]);
    const one = await api.call('GET', `/v1/tasks/${a}:task-review.review:2`, { key: keys.reviewer });
    expect(one.body).toMatchObject({
      instanceId: a,
      machine: 'task-review',
      state: 'task-review.review',
      title: 'Review the draft',
      event: 'review.decide',
      roles: ['reviewer'],
      assignee: null,
      status: 'open',
      overdue: false,
      dueAt: new Date(Date.parse('2030-01-01T00:00:00Z') + DAY_MS).toISOString(),
      form: { required: ['approved'] },
    });
    // Claimed by rita: listed under her as assignee, still visible to other reviewers.
    const claim = await api.call('POST', `/v1/tasks/${a}:task-review.review:2/claim`, { key: keys.reviewer });
    expect(claim.body).toMatchObject({ claimedBy: 'apikey:rita' });
    expect(await list(keys.reviewer2, '?assignee=apikey:rita')).toEqual([`${a}:task-review.review:2`]);
    expect(await list(keys.reviewer2, '?assignee=apikey:rob')).toEqual([]);
    // The deadline passes: the reviewer's task is cancelled, the escalation is the boss's alone.
    await api.sim.advance(DAY_MS);
    expect(await list(keys.reviewer)).toEqual([]);
    expect(await list(keys.boss, '?assignee=apikey:boss')).toEqual([`${a}:task-review.escalated:3`]);
    const bad = await api.call('GET', '/v1/tasks?overdue=maybe', { key: keys.boss });
    expect([bad.status, bad.body.error.code]).toEqual([400, 'validation_failed']);
  });

  test('an answer failing the form is 422 with every problem, and nothing changes; a valid one completes the task', async () => {
    const { api, keys, start } = await setupApi();
    const id = await start();
    await api.call('POST', `/v1/instances/${id}/events`, { body: { type: 'draft.submit' }, key: keys.writer });
    const task = `${id}:task-review.review:2`;
    const before = await api.runtime.history(id);
    const bad = await api.call('POST', `/v1/tasks/${task}/complete`, {
      body: { answer: { approved: 'yes', note: 1 } },
      key: keys.reviewer,
    });
    expect(bad.status).toBe(422);
    expect(bad.body.error).toMatchObject({ code: 'answer_invalid', details: { taskId: task } });
    expect(bad.body.error.details.issues).toEqual(
      expect.arrayContaining([
        { path: '/approved', message: 'must be boolean' },
        { path: '', message: 'must NOT have additional properties' },
      ]),
    );
    expect(await api.runtime.history(id)).toEqual(before);
    expect((await api.call('GET', `/v1/tasks/${task}`, { key: keys.reviewer })).body.status).toBe('open');
    // Wrong role: 403; a viewer may read but not complete.
    const writer = await api.call('POST', `/v1/tasks/${task}/complete`, { body: { answer: { approved: true } }, key: keys.writer });
    expect([writer.status, writer.body.error.code]).toEqual([403, 'task_not_allowed']);
    const viewer = await api.call('POST', `/v1/tasks/${task}/complete`, { body: { answer: { approved: true } }, key: keys.viewerReviewer });
    expect([viewer.status, viewer.body.error.code]).toEqual([403, 'forbidden']);
    const other = await api.call('GET', `/v1/tasks/${task}`, { key: api.keys.otherTenant });
    expect([other.status, other.body.error.code]).toEqual([404, 'task_not_found']);
    const ok = await api.call('POST', `/v1/tasks/${task}/complete`, { body: { answer: { approved: true } }, key: keys.reviewer });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({
      task: { status: 'completed', closedBy: 'apikey:rita' },
      result: { handled: true, status: 'done', state: 'decided' },
    });
    const again = await api.call('POST', `/v1/tasks/${task}/complete`, { body: { answer: { approved: true } }, key: keys.reviewer });
    expect([again.status, again.body.error.code]).toEqual([409, 'task_closed']);
  });
});
