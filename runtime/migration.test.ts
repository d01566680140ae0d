import { expect, test } from 'vitest';
import { setup } from 'xstate';
import { parentFlow } from '../test/fixtures/machines.ts';
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
