import { describe, expect, test } from 'vitest';
import type { InstanceStore } from '../runtime/ports.ts';
import { createLab } from '../lab/index.ts';
import { SignUpInputSchema } from '../machines/sign-up.machine.ts';
import { fullProvisioningInput, runUntilResting, seedSimulation } from './support/seed-harness.ts';

const operator = { id: 'ops:ana', roles: ['operator'] };

/** What each provisioning step calls in the lab, in order. */
const forwardCalls = [
  ['customers', 'createCustomer'],
  ['customers', 'createSubscriber'],
  ['radius', 'createAccount'],
  ['ipam', 'allocateAddress'],
  ['onu', 'activate'],
  ['cpe', 'configure'],
  ['billing', 'addService'],
] as const;

/**
 * Fork on every store: run by `runtime/fork.test.ts` (memory) and `test/fork.pg.test.ts` (Postgres).
 * `verifyHistory` checks a history's tamper-evidence chain where the store keeps one.
 */
export function forkSuite(name: string, makeStore: () => Promise<InstanceStore>, verifyHistory?: (id: string) => Promise<boolean>) {
  describe(`fork on ${name}`, () => {
    const title =
      'a provisioning rolled back by an ONU outage, forked at the entry before the ONU step, completes ' +
      'without calling the earlier steps again';
    test(title, async () => {
      const lab = createLab();
      const sim = await seedSimulation(lab, { store: await makeStore() });
      lab.faults.inject({ system: 'onu', operation: 'activate', mode: 'fail' });
      const input = fullProvisioningInput('grace');
      const first = await sim.runtime.start({ machine: 'subscriber-provisioning', input, idempotencyKey: 'signup-grace' });
      const rolledBack = await runUntilResting(sim, first.id);
      expect(rolledBack.output).toMatchObject({ outcome: 'rolled_back', failure: { step: 'onuActivation' } });
      const history = await sim.runtime.history(first.id, { limit: 1000 });
      // The entry after which the ONU step was started: the IP allocation's result.
      const seq = history.find((e) => e.type === 'xstate.done.actor.ipAllocation')!.seq;
      const ipAllocation = (history.find((e) => e.seq === seq)!.payload as { output: unknown }).output;
      const before = Object.fromEntries(forwardCalls.map(([s, o]) => [`${s}.${o}`, lab.calls.count(s, o)]));
      expect(before).toMatchObject({
        'customers.createCustomer': 1,
        'ipam.allocateAddress': 1,
        'onu.activate': 5,
        'billing.addService': 0,
      });
      lab.faults.clear();

      const fork = await sim.runtime.forkInstance(first.id, { seq, caller: operator, reason: 'ONU vendor outage over' });
      expect(fork).toMatchObject({ forkOf: { id: first.id, seq }, status: 'active', machine: rolledBack.machine, paused: false });
      expect(fork.id).not.toBe(first.id);
      const done = await runUntilResting(sim, fork.id);
      expect(done.output).toMatchObject({ outcome: 'completed', result: { ipAddress: (ipAllocation as { address: string }).address } });

      // The steps completed before the entry were not called again; the ONU step and the ones after it ran.
      const after = Object.fromEntries(forwardCalls.map(([s, o]) => [`${s}.${o}`, lab.calls.count(s, o)]));
      expect(after).toEqual({
        ...before,
        'onu.activate': before['onu.activate']! + 1,
        'cpe.configure': before['cpe.configure']! + 1,
        'billing.addService': before['billing.addService']! + 1,
      });
      // The ONU step ran under a key of the fork's own, not one the original used.
      const onuKeys = async (id: string) => (await sim.runtime.effects(id)).filter((e) => e.name === 'onuActivation').map((e) => e.id);
      const [forkKey] = await onuKeys(fork.id);
      expect(forkKey?.startsWith(`${fork.id}:`)).toBe(true);
      expect(await onuKeys(first.id)).not.toContain(forkKey);
      expect((await sim.runtime.effects(fork.id)).filter((e) => e.kind === 'step').map((e) => e.name)).toEqual([
        'onuActivation',
        'cpeConfiguration',
        'billingService',
      ]);

      // Both histories record the fork; the fork's starts with the original's entries up to the one it was forked from.
      const forkHistory = await sim.runtime.history(fork.id, { limit: 1000 });
      const strip = ({ instanceId: _, ...e }: (typeof history)[number]) => e;
      expect(forkHistory.slice(0, seq).map(strip)).toEqual(history.slice(0, seq).map(strip));
      expect(forkHistory[seq]).toMatchObject({
        seq: seq + 1,
        type: 'statekeeper.fork',
        // The state the original was in after the entry: the ONU step about to run.
        stateValue: history[seq - 1]!.stateValue,
        source: 'operator',
        actor: 'ops:ana',
        payload: { forkOf: { id: first.id, seq }, reason: 'ONU vendor outage over' },
      });
      expect((await sim.runtime.history(first.id, { limit: 1000 })).at(-1)).toMatchObject({
        type: 'statekeeper.forked',
        source: 'operator',
        actor: 'ops:ana',
        payload: { forkedAs: fork.id, seq, reason: 'ONU vendor outage over' },
      });
      if (verifyHistory) expect(await verifyHistory(fork.id)).toBe(true);

      // The original keeps its key; the fork took the first free fork key.
      const again = await sim.runtime.start({ machine: 'subscriber-provisioning', input, idempotencyKey: 'signup-grace' });
      expect(again).toMatchObject({ id: first.id, created: false });
      const byForkKey = await sim.runtime.start({ machine: 'subscriber-provisioning', input, idempotencyKey: 'signup-grace#fork-1' });
      expect(byForkKey).toMatchObject({ id: fork.id, created: false });
      // A fork of the fork, from its own copied history, replays as well.
      const second = await sim.runtime.forkInstance(fork.id, { seq: seq + 1 });
      expect(second.forkOf).toEqual({ id: fork.id, seq: seq + 1 });
      const secondHistory = await sim.runtime.history(second.id, { limit: seq + 2 });
      expect(secondHistory[seq + 1]).toMatchObject({ type: 'statekeeper.fork', stateValue: forkHistory[seq]!.stateValue });
      await runUntilResting(sim, second.id);
      expect(sim.errors).toEqual([]);
    });

    test('a timer open at the entry is armed again with the time it had left; the steps before it are not called again', async () => {
      const lab = createLab();
      const sim = await seedSimulation(lab, { store: await makeStore() });
      const input = SignUpInputSchema.parse({ email: 'lin@example.net', name: 'Lin' });
      const { id } = await sim.runtime.start({ machine: 'sign-up', input });
      await sim.settle();
      const waiting = await sim.runtime.get(id);
      expect(waiting.value).toBe('awaitingVerification');
      // Ten hours into the 24-hour deadline, fork at the entry that started the wait: it gets the whole day again.
      await sim.advance(10 * 3600_000);
      const fork = await sim.runtime.forkInstance(id, { seq: waiting.version });
      const [timer] = (await sim.runtime.effects(fork.id)).filter((e) => e.kind === 'timer');
      expect(timer).toMatchObject({ status: 'pending', name: 'xstate.after.verificationTimeout.sign-up.awaitingVerification' });
      expect(timer!.id.startsWith(`${fork.id}:`)).toBe(true);
      expect(timer!.dueAt!.getTime() - fork.createdAt.getTime()).toBe(24 * 3600_000);
      await sim.advance(14 * 3600_000 + 1000);
      expect((await runUntilResting(sim, id)).output).toMatchObject({ outcome: 'rolled_back' });
      expect((await sim.runtime.get(fork.id)).value).toBe('awaitingVerification');
      await sim.runtime.send(fork.id, { type: 'email.verified' });
      expect((await runUntilResting(sim, fork.id)).output).toMatchObject({ outcome: 'completed' });
      // The account and the verification email of the original were reused, not made again.
      expect(lab.calls.count('customers', 'createCustomer')).toBe(1);
      expect(lab.calls.count('messaging', 'sendEmail')).toBe(2); // the verification, then the fork's welcome
      expect(sim.errors).toEqual([]);
    });

    test('seq must name an entry where the instance was running; unknown and other tenants are not found; nothing starts', async () => {
      const lab = createLab();
      const sim = await seedSimulation(lab, { store: await makeStore() });
      lab.faults.inject({ system: 'onu', operation: 'activate', mode: 'fail' });
      const { id } = await sim.runtime.start({ machine: 'subscriber-provisioning', input: fullProvisioningInput('ada') });
      const ended = await runUntilResting(sim, id);
      for (const seq of [0, -1, 1.5, Number.NaN, ended.version + 1]) {
        expect(await sim.runtime.forkInstance(id, { seq }).catch((e) => e)).toMatchObject({ code: 'invalid_seq' });
      }
      expect(await sim.runtime.forkInstance(id, { seq: ended.version }).catch((e) => e)).toMatchObject({ code: 'instance_not_active' });
      expect(await sim.runtime.forkInstance('nope', { seq: 1 }).catch((e) => e)).toMatchObject({ code: 'instance_not_found' });
      expect(await sim.runtime.forkInstance(id, { seq: 1, tenant: 'other' }).catch((e) => e)).toMatchObject({
        code: 'instance_not_found',
      });
      expect((await sim.runtime.list({})).items.map((i) => i.id)).toEqual([id]);
      expect((await sim.runtime.history(id, { limit: 1000 })).at(-1)?.type).not.toBe('statekeeper.forked');
    });
  });
}
