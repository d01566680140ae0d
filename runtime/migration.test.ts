import { expect, test } from 'vitest';
import { createMachine, setup } from 'xstate';
import { parentFlow } from '../test/fixtures/machines.ts';
import { DAY_MS, taskReview } from '../test/fixtures/task-machines.ts';
import { migrationSuite } from '../test/migration-suite.ts';
import { MemoryStore } from './memory-store.ts';
import { createSimulation } from './testing/index.ts';

migrationSuite('the memory store', async () => new MemoryStore());

test('a child machine the target state invokes is planned by the migration and reports back to the migrated parent', async () => {
  const waiting = setup({}).createMachine({
    id: 'parent-flow',
    context: { progress: 0 },
    initial: 'running',
    states: { running: { on: { forward: {} } }, done: { type: 'final' } },
  });
  const sim = await createSimulation({ machines: [{ machine: waiting, options: { version: '1' } }] });
  const { id } = await sim.runtime.start({ machine: 'parent-flow' });
  sim.runtime.register(parentFlow, { version: '2' });
  const report = await sim.runtime.migrateInstance(id, { to: '2', dryRun: false });
  expect(report.effects).toMatchObject({ kept: [], cancelled: [], planned: [{ kind: 'child', name: 'kid', target: 'child-flow' }] });
  await sim.settle();
  const [child] = (await sim.runtime.list({ parentId: id })).items;
  expect(child).toMatchObject({ machine: { id: 'child-flow', version: '2' }, value: 'waiting' });
  await sim.runtime.send(child!.id, { type: 'go' });
  await sim.settle();
  expect(await sim.runtime.get(id)).toMatchObject({ value: 'done', context: { childOutput: { label: 'HELLO' }, progress: 1 } });
  await sim.runtime.close();
});

test('tasks follow the migration: a state mapped away loses its task, the new state opens its own with its deadline', async () => {
  const { states, ...config } = taskReview.config as { states: Record<string, unknown> } & Record<string, unknown>;
  const { review, ...rest } = states;
  // v2 calls the review state "peerReview" (its task and one-day deadline unchanged).
  const renamed = createMachine(
    {
      ...config,
      states: { ...rest, peerReview: review, drafting: { ...(rest.drafting as object), on: { 'draft.submit': 'peerReview' } } },
    } as never,
    taskReview.implementations as never,
  ) as unknown as typeof taskReview;
  const sim = await createSimulation({ machines: [{ machine: taskReview, options: { version: '1' } }] });
  const { id } = await sim.runtime.start({ machine: 'task-review' });
  await sim.runtime.send(id, { type: 'draft.submit' });
  await sim.advance(3600_000);
  sim.runtime.register(renamed, { version: '2' });
  sim.runtime.registerMigration({ machine: 'task-review', from: '1', to: '2', stateMap: { review: 'peerReview' } });
  const report = await sim.runtime.migrateInstance(id, { to: '2', dryRun: false });
  expect(report.effects.cancelled.map((e) => e.name)).toEqual([`xstate.after.${DAY_MS}.task-review.review`]);
  expect(report.effects.planned.map((e) => e.name)).toEqual([`xstate.after.${DAY_MS}.task-review.peerReview`]);
  const open = await sim.store.listTasks({ tenant: 'default', instanceId: id, now: sim.clock.now(), limit: 10 });
  expect(open.map((t) => [t.state, t.title, t.dueAt?.getTime()])).toEqual([
    ['task-review.peerReview', 'Review the draft', sim.clock.now().getTime() + DAY_MS],
  ]);
  await sim.runtime.send(id, { type: 'review.decide', answer: { approved: true } });
  expect(await sim.runtime.get(id)).toMatchObject({ status: 'done', context: { approved: true } });
  await sim.runtime.close();
});
