import { describe, expect, test } from 'vitest';
import type { InstanceStore } from '../runtime/ports.ts';
import { createLab } from '../lab/index.ts';
import { fullProvisioningInput, runUntilResting, seedSimulation } from './support/seed-harness.ts';

const operator = { id: 'ops:ana', roles: ['operator'] };

/** Restart on every store: run by `runtime/restart.test.ts` (memory) and `test/restart.pg.test.ts` (Postgres). */
export function restartSuite(name: string, makeStore: () => Promise<InstanceStore>) {
  describe(`restart on ${name}`, () => {
    const rolledBack =
      'a provisioning rolled back by an ONU outage, restarted after it, completes; the original key still answers the original';
    test(rolledBack, async () => {
      const lab = createLab();
      const sim = await seedSimulation(lab, { store: await makeStore() });
      lab.faults.inject({ system: 'onu', operation: 'activate', mode: 'fail' });
      const input = fullProvisioningInput('grace');
      const first = await sim.runtime.start({ machine: 'subscriber-provisioning', input, idempotencyKey: 'signup-grace' });
      const rolledBack = await runUntilResting(sim, first.id);
      expect(rolledBack.output).toMatchObject({ outcome: 'rolled_back', failure: { step: 'onuActivation' } });
      lab.faults.clear();

      const restarted = await sim.runtime.restartInstance(first.id, { caller: operator, reason: 'ONU vendor outage over' });
      expect(restarted).toMatchObject({ restartOf: first.id, machine: rolledBack.machine, paused: false });
      expect(restarted.id).not.toBe(first.id);
      const done = await runUntilResting(sim, restarted.id);
      expect(done.output).toMatchObject({ outcome: 'completed' });
      expect(lab.calls.count('onu', 'activate')).toBeGreaterThanOrEqual(2);

      // The original is left as it was, with the restart in its history.
      const original = await sim.runtime.get(first.id);
      expect(original).toMatchObject({ status: rolledBack.status, value: rolledBack.value, output: rolledBack.output });
      expect((await sim.runtime.history(first.id, { limit: 1000 })).at(-1)).toMatchObject({
        type: 'statekeeper.restarted',
        source: 'operator',
        actor: 'ops:ana',
        payload: { restartedAs: restarted.id, reason: 'ONU vendor outage over' },
      });
      const [init] = await sim.runtime.history(restarted.id);
      expect(init).toMatchObject({ type: 'xstate.init', actor: 'ops:ana', payload: { input } });

      // The key keeps answering with the original; the restart took the next free restart key.
      const again = await sim.runtime.start({ machine: 'subscriber-provisioning', input, idempotencyKey: 'signup-grace' });
      expect(again).toMatchObject({ id: first.id, created: false });
      const byRestartKey = await sim.runtime.start({ machine: 'subscriber-provisioning', input, idempotencyKey: 'signup-grace#restart-1' });
      expect(byRestartKey).toMatchObject({ id: restarted.id, created: false });
      const second = await sim.runtime.restartInstance(restarted.id, { caller: operator });
      const byNextKey = await sim.runtime.start({ machine: 'subscriber-provisioning', input, idempotencyKey: 'signup-grace#restart-2' });
      expect(byNextKey).toMatchObject({ id: second.id, created: false, restartOf: restarted.id });
      await runUntilResting(sim, second.id);
      expect(sim.errors).toEqual([]);
    });

    test('an unknown instance is instance_not_found and nothing starts', async () => {
      const sim = await seedSimulation(createLab(), { store: await makeStore() });
      const err = await sim.runtime.restartInstance('nope').catch((e) => e);
      expect(err).toMatchObject({ code: 'instance_not_found' });
      expect((await sim.runtime.list({})).items).toHaveLength(0);
    });
  });
}
