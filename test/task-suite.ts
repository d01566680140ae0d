/**
 * Human tasks as one contract, run on the in-memory store and on Postgres:
 * task rows opened and closed in the commit of the transition, the inbox's
 * filters, claims and completion through the form.
 */
import { describe, expect, test } from 'vitest';
import type { InstanceStore } from '../runtime/ports.ts';
import { createSimulation } from '../runtime/testing/index.ts';
import { DAY_MS, taskReview } from './fixtures/task-machines.ts';

const writer = { id: 'u:wendy', roles: ['writer'] };
const reviewer = { id: 'u:rita', roles: ['reviewer'] };
const otherReviewer = { id: 'u:rob', roles: ['reviewer'] };
const boss = { id: 'apikey:boss', roles: [] };

/** Runs the task contract on stores from `makeStore`. */
export function taskSuite(name: string, makeStore: () => Promise<InstanceStore>): void {
  describe(`human tasks (${name})`, () => {
    const start = async () => {
      const sim = await createSimulation({ machines: [{ machine: taskReview, options: { version: '1' } }], store: await makeStore() });
      const { id } = await sim.runtime.start({ machine: 'task-review', tenant: 'acme' });
      return { sim, rt: sim.runtime, id };
    };

    test('entering a state opens its task in the same commit; leaving by its event completes it, with the actor', async () => {
      const { rt, id } = await start();
      const [draft] = (await rt.tasks.list({ tenant: 'acme' })).items;
      expect(draft).toMatchObject({
        id: `${id}:task-review.drafting:1`,
        instanceId: id,
        title: 'Write the draft',
        roles: ['writer'],
        status: 'open',
      });
      await rt.send(id, { type: 'draft.submit' }, { tenant: 'acme', caller: writer });
      expect(await rt.tasks.get(draft!.id, { tenant: 'acme' })).toMatchObject({ status: 'completed', closedBy: 'u:wendy' });
      const open = (await rt.tasks.list({ tenant: 'acme' })).items;
      expect(open.map((t) => [t.id, t.title, t.dueAt?.toISOString()])).toEqual([
        [`${id}:task-review.review:2`, 'Review the draft', new Date(Date.parse('2030-01-01T00:00:00Z') + DAY_MS).toISOString()],
      ]);
      await rt.close();
    });

    test('the inbox: only tasks the caller may act on; filters by role, assignee, machine, overdue', async () => {
      const { sim, rt, id } = await start();
      const second = await rt.start({ machine: 'task-review', tenant: 'acme' });
      await rt.send(id, { type: 'draft.submit' }, { tenant: 'acme' });
      const ids = async (o: Parameters<typeof rt.tasks.list>[0]) => (await rt.tasks.list({ tenant: 'acme', ...o })).items.map((t) => t.id);
      expect(await ids({ caller: writer })).toEqual([`${second.id}:task-review.drafting:1`]);
      expect(await ids({ caller: reviewer })).toEqual([`${id}:task-review.review:2`]);
      expect(await ids({ role: 'writer' })).toEqual([`${second.id}:task-review.drafting:1`]);
      expect(await ids({ machineId: 'other' })).toEqual([]);
      expect(await ids({ tenant: 'other' })).toEqual([]);
      expect(await ids({ overdue: true })).toEqual([]);
      // A claim makes the task the claimant's: listed under its assignee filter.
      await rt.tasks.claim(`${id}:task-review.review:2`, { tenant: 'acme', caller: reviewer });
      expect(await ids({ assignee: 'u:rita' })).toEqual([`${id}:task-review.review:2`]);
      // The deadline passes: the escalation transition cancels the review task and opens the boss's.
      await sim.advance(DAY_MS - 1);
      expect(await ids({ overdue: false, role: 'reviewer' })).toEqual([`${id}:task-review.review:2`]);
      await sim.advance(1);
      expect(await rt.tasks.get(`${id}:task-review.review:2`, { tenant: 'acme' })).toMatchObject({ status: 'cancelled', closedBy: null });
      expect(await ids({ caller: boss })).toEqual([`${id}:task-review.escalated:3`]);
      expect(await ids({ caller: reviewer })).toEqual([]);
      expect(await ids({ assignee: 'apikey:boss' })).toEqual([`${id}:task-review.escalated:3`]);
      await rt.close();
    });

    test('an answer failing the form is refused with every problem, and nothing changes', async () => {
      const { rt, id } = await start();
      await rt.send(id, { type: 'draft.submit' }, { tenant: 'acme' });
      const taskId = `${id}:task-review.review:2`;
      const before = await rt.history(id);
      const bad = rt.tasks.complete(taskId, { approved: 'yes', extra: 1 }, { tenant: 'acme', caller: reviewer });
      await expect(bad).rejects.toMatchObject({
        code: 'answer_invalid',
        details: { issues: expect.arrayContaining([{ path: '/approved', message: 'must be boolean' }]) },
      });
      const missing = rt.tasks.complete(taskId, {}, { tenant: 'acme', caller: reviewer });
      await expect(missing).rejects.toMatchObject({
        details: { issues: [{ path: '/approved', message: "must have required property 'approved'" }] },
      });
      // The form holds for the task's event sent directly too.
      const direct = rt.send(id, { type: 'review.decide', answer: { approved: 'no' } }, { tenant: 'acme', caller: reviewer });
      await expect(direct).rejects.toMatchObject({
        code: 'answer_invalid',
        details: { issues: [{ path: '/approved', message: 'must be boolean' }] },
      });
      expect(await rt.history(id)).toEqual(before);
      expect(await rt.tasks.get(taskId, { tenant: 'acme' })).toMatchObject({ status: 'open' });
      expect((await rt.get(id)).value).toBe('review');
    });

    test('completion sends the event with the answer; claims guard it; roles and tenants are enforced', async () => {
      const { rt, id } = await start();
      await rt.send(id, { type: 'draft.submit' }, { tenant: 'acme' });
      const taskId = `${id}:task-review.review:2`;
      await expect(rt.tasks.complete(taskId, { approved: true }, { tenant: 'acme', caller: writer })).rejects.toMatchObject({
        code: 'task_not_allowed',
      });
      await expect(rt.tasks.get(taskId, { tenant: 'other' })).rejects.toMatchObject({ code: 'task_not_found' });
      await rt.tasks.claim(taskId, { tenant: 'acme', caller: reviewer });
      await expect(rt.tasks.claim(taskId, { tenant: 'acme', caller: otherReviewer })).rejects.toMatchObject({
        code: 'task_claimed',
        details: { claimedBy: 'u:rita' },
      });
      await expect(rt.tasks.complete(taskId, { approved: true }, { tenant: 'acme', caller: otherReviewer })).rejects.toMatchObject({
        code: 'task_claimed',
      });
      await expect(rt.tasks.unclaim(taskId, { tenant: 'acme', caller: otherReviewer })).rejects.toMatchObject({ code: 'task_claimed' });
      expect(await rt.tasks.unclaim(taskId, { tenant: 'acme', caller: reviewer })).toMatchObject({ claimedBy: null, claimedAt: null });
      const { task, result } = await rt.tasks.complete(
        taskId,
        { approved: true, comment: 'fine' },
        { tenant: 'acme', caller: otherReviewer, idempotencyKey: 'k1' },
      );
      expect(result).toMatchObject({ handled: true, status: 'done', value: 'decided' });
      expect(task).toMatchObject({ status: 'completed', closedBy: 'u:rob' });
      expect((await rt.get(id)).context).toEqual({ approved: true, comment: 'fine' });
      const last = (await rt.history(id)).at(-1)!;
      expect([last.type, last.actor, last.payload]).toEqual([
        'review.decide',
        'u:rob',
        { taskId, answer: { approved: true, comment: 'fine' } },
      ]);
      // The same key again answers with the first completion; without it, the task is closed.
      const again = await rt.tasks.complete(
        taskId,
        { approved: true, comment: 'fine' },
        { tenant: 'acme', caller: otherReviewer, idempotencyKey: 'k1' },
      );
      expect(again.result).toMatchObject({ duplicate: true, handled: true });
      await expect(rt.tasks.complete(taskId, { approved: false }, { tenant: 'acme', caller: otherReviewer })).rejects.toMatchObject({
        code: 'task_closed',
      });
      expect(await rt.tasks.list({ tenant: 'acme' })).toEqual({ items: [], nextCursor: null });
    });

    test('stopping an instance cancels its open tasks in the stop commit', async () => {
      const { rt, id } = await start();
      await rt.stopInstance(id, 'withdrawn', { tenant: 'acme' });
      expect(await rt.tasks.get(`${id}:task-review.drafting:1`, { tenant: 'acme' })).toMatchObject({ status: 'cancelled' });
      expect((await rt.tasks.list({ tenant: 'acme' })).items).toEqual([]);
    });
  });
}
