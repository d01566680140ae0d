import { describe, expect, test } from 'vitest';
import type { Lab } from '../lab/index.ts';
import { eventually } from './support/poll.ts';
import {
  isForwardOnly,
  machineOf,
  recoversByKey,
  maxAttemptsOf,
  preparedLab,
  runUntilResting,
  sagaSpecs,
  seedSimulation,
  serviceActivation,
  serviceState,
  serviceSuspension,
  stepOrder,
  subscriberDeprovisioning,
  subscriberProvisioning,
  tenantProvisioning,
  type SagaSpec,
} from './support/seed-harness.ts';

/**
 * The seed sagas through the runtime (simulation mode) against the in-process
 * lab: the happy path of each, then a failure at every step in turn. A failing
 * step exhausts its retries, the completed steps are undone in reverse order
 * and the lab holds nothing the workflow created. Past a saga's pivot
 * (deprovisioning's purge) nothing is undone: the saga waits for an operator,
 * and a retry finishes the work.
 */

async function runSaga(spec: SagaSpec, fault?: { step: string }) {
  const prepared = await preparedLab(spec);
  const sim = await seedSimulation(prepared.lab);
  const failing = fault && spec.steps.find((s) => s.name === fault.step)!;
  if (failing) prepared.lab.faults.inject({ ...failing.action, mode: 'fail' });
  const { id } = await sim.runtime.start({ machine: spec.machine, input: prepared.input });
  const view = await runUntilResting(sim, id);
  prepared.lab.faults.clear();
  expect(sim.errors).toEqual([]);
  return { ...prepared, sim, id, view };
}

const liveOf = async (lab: Lab) => (await lab.liveRecords()).map((r) => `${r.system}/${r.kind}/${r.id}`).sort();

describe('happy paths', () => {
  test('subscriber-provisioning creates one record per step and returns their ids', async () => {
    const { lab, view } = await runSaga(subscriberProvisioning);
    expect(view.output).toMatchObject({ outcome: 'completed' });
    const out = (view.output as { result: Record<string, string> }).result;
    const ip = (await lab.records()).ipam.ipAddresses;
    expect(ip.map((a) => a.address)).toEqual([out.ipAddress]);
    expect(await liveOf(lab)).toEqual([
      `billing/service/${out.serviceId}`,
      'cpe/cpe-config/cpe-0001',
      `customers/customer/${out.customerId}`,
      `customers/subscriber/${out.subscriberId}`,
      `ipam/ip-address/${ip[0]!.id}`,
      `onu/onu/${out.onuId}`,
      'radius/account/ada',
    ]);
  });

  test('tenant-provisioning leaves an active tenant with everything it needs', async () => {
    const { lab, view } = await runSaga(tenantProvisioning);
    expect(view.output).toMatchObject({
      outcome: 'completed',
      result: { tenantId: 'acme', schema: 'tenant_acme', hostname: 'acme.example.net' },
    });
    const { tenants, billing } = await lab.records();
    expect(tenants.tenants).toEqual([{ tenantId: 'acme', name: 'Acme Networks', plan: 'pro', status: 'active' }]);
    expect([tenants.schemas.length, tenants.users.length, tenants.ingresses.length, tenants.plans.length, tenants.channels.length]).toEqual(
      [1, 1, 1, 3, 1],
    );
    expect(billing.accounts).toMatchObject([{ customerId: 'acme', status: 'open' }]);
    expect(await lab.liveRecordCount()).toBe(9);
  });

  test('service-activation re-activates a suspended subscriber everywhere and tells them', async () => {
    const { lab, input, before, view } = await runSaga(serviceActivation);
    expect(view.output).toMatchObject({ outcome: 'completed' });
    expect(await serviceState(lab, input)).toMatchObject({ subscriber: 'active', radiusSuspended: false, service: 'active' });
    expect(await lab.orphans(before)).toEqual([]);
    expect(lab.systems.messaging.records().map((m) => m.channel === 'email' && m.template)).toEqual(['service-activated']);
  });

  test('service-suspension suspends an active subscriber everywhere and tells them why', async () => {
    const { lab, input, before, view } = await runSaga(serviceSuspension);
    expect(view.output).toMatchObject({ outcome: 'completed' });
    expect(await serviceState(lab, input)).toMatchObject({ subscriber: 'suspended', radiusSuspended: true, service: 'suspended' });
    expect(await lab.orphans(before)).toEqual([]);
    expect(lab.systems.messaging.records()).toMatchObject([{ template: 'service-suspended', data: { reason: 'unpaid invoices' } }]);
  });

  test('subscriber-deprovisioning removes everything but the customer', async () => {
    const { lab, input, view } = await runSaga(subscriberDeprovisioning);
    expect(view.output).toMatchObject({
      outcome: 'completed',
      result: { purge: { removed: ['billingService', 'radiusAccount', 'ipAddress', 'cpeConfiguration', 'subscriber'], alreadyGone: [] } },
    });
    expect(await liveOf(lab)).toEqual([expect.stringMatching(/^customers\/customer\//)]);
    expect(lab.systems.customers.subscriber(input.subscriberId)?.status).toBe('deleted');
  });
});

// Orphans found over the whole failure matrix; the last test asserts the total.
let orphanTotal = 0;
let scenarios = 0;

describe.each(sagaSpecs.map((spec) => [spec.machine, spec] as const))('%s: a failure at every step', (_name, spec) => {
  const machine = machineOf(spec.machine);
  const reversible = spec.steps.filter((s) => !isForwardOnly(spec.machine, s.name));
  const forwardOnly = spec.steps.filter((s) => isForwardOnly(spec.machine, s.name));

  const failAt = async (stepName: string, index: number) => {
    const run = await runSaga(spec, { step: stepName });
    scenarios++;
    const failing = spec.steps[index]!;
    // The failing step was attempted as often as its policy allows, once per attempt.
    const src = (await run.sim.runtime.effects(run.id)).find((e) => e.name === stepName)!.target!;
    expect(run.lab.calls.count(failing.action.system, failing.action.operation)).toBe(maxAttemptsOf(machine, src));
    return run;
  };

  test.each(reversible.map((s) => [s.name, spec.steps.indexOf(s)] as const))(
    'fails at %s: retries run out, completed steps undone in reverse, no orphans',
    async (stepName, index) => {
      const { lab, before, state, input, sim, id, view } = await failAt(stepName, index);
      expect(view.status).toBe('done');
      expect(view.output).toMatchObject({ outcome: 'rolled_back', failure: { step: stepName }, resolutions: [] });

      const completed = spec.steps.slice(0, index);
      const undone = completed
        .filter((s) => s.compensation)
        .reverse()
        .map((s) => `compensate.${s.name}`);
      // The failed call may have applied (its outcome is unknown): it is looked up by its key before the undo.
      // When the lookup finds it applied (part of it, here: the step makes more than one call), that is undone first.
      const lookup = recoversByKey(spec.machine, stepName) ? [`recover.${stepName}`] : [];
      const found = (await sim.runtime.effects(id)).find((e) => e.name === `recover.${stepName}`)?.result as { applied?: boolean } | null;
      if (found?.applied) undone.unshift(`compensate.${stepName}`);
      expect(await stepOrder(sim, id)).toEqual([...completed.map((s) => s.name), stepName, ...lookup, ...undone]);
      const history = (await sim.runtime.history(id, { limit: 1000 })).map((e) => e.type);
      expect(history.filter((t) => t.startsWith('xstate.done.actor.compensate.'))).toEqual(undone.map((u) => `xstate.done.actor.${u}`));

      const orphans = await lab.orphans(before);
      orphanTotal += orphans.length;
      expect(orphans).toEqual([]);
      if (spec.state) expect(await spec.state(lab, input)).toEqual(state);
    },
  );

  if (forwardOnly.length === 0) return;
  test.each(forwardOnly.map((s) => [s.name, spec.steps.indexOf(s)] as const))(
    'fails at %s (past the pivot): nothing undone, waits for an operator; runtime.retry finishes it, no orphans',
    async (stepName, index) => {
      const { lab, before, sim, id, view } = await failAt(stepName, index);
      expect(view).toMatchObject({ status: 'active', value: { running: `${stepName}_failed` }, tags: ['failed'], output: null });
      expect(view.context).toMatchObject({
        failure: { step: stepName, error: { message: expect.stringContaining('injected fault') } },
        resolutions: [],
        cancellation: null,
      });
      const described = await sim.runtime.describe(id);
      expect(described.workflowStatus).toBe('failed');
      expect(described.steps.find((s) => s.step === stepName)).toMatchObject({
        status: 'failed',
        error: { message: expect.stringContaining('injected fault') },
      });
      expect(described.acceptedEvents.map((e) => e.type)).toEqual(expect.arrayContaining(['operator.retry', 'operator.resolve']));
      // No undo ran, and nothing moves while it waits.
      const completed = spec.steps.slice(0, index).map((s) => s.name);
      expect(await stepOrder(sim, id)).toEqual([...completed, stepName]);
      expect(await sim.next()).toBe(false);
      const waiting = await lab.orphans(before);
      orphanTotal += waiting.length;
      expect(waiting).toEqual([]);

      // The fault is gone (runSaga clears it): the operator retries and the step resumes.
      expect(await sim.runtime.retry(id)).toMatchObject({ handled: true, value: { running: stepName } });
      const finished = await runUntilResting(sim, id);
      expect(finished.output).toMatchObject({ outcome: 'completed' });
      expect(finished.context).toMatchObject({ failure: null, resolutions: [] });
      expect((await sim.runtime.effects(id)).filter((e) => e.name === stepName).map((e) => e.status)).toEqual(['failed', 'done']);
      expect((await stepOrder(sim, id)).filter((n) => n.startsWith('compensate.'))).toEqual([]);
      expect(sim.errors).toEqual([]);
      const orphans = await lab.orphans(before);
      orphanTotal += orphans.length;
      expect(orphans).toEqual([]);
    },
  );
});

test('the failure matrix leaves no orphan record at all', () => {
  // Printed so a run shows the figure, not only a green tick.
  console.log(`failure matrix: ${scenarios} scenarios, ${orphanTotal} orphan records`);
  expect(scenarios).toBe(sagaSpecs.reduce((n, s) => n + s.steps.length, 0));
  expect(orphanTotal).toBe(0);
});

describe('subscriber-deprovisioning: the purge is its point of no return', () => {
  test('a failed purge leaves the ONU deactivated and the subscriber in place; retried, it removes all but the customer', async () => {
    const { lab, input, sim, id, view } = await runSaga(subscriberDeprovisioning, { step: 'purge' });
    expect(view.value).toEqual({ running: 'purge_failed' });
    // Nothing was undone: the subscriber stays suspended everywhere, its ONU deactivated, nothing deleted yet.
    expect(await serviceState(lab, input)).toEqual({ subscriber: 'suspended', radiusSuspended: true, service: 'suspended', onus: [] });
    // Past the pivot a cancel is refused even while it waits: nothing changes.
    const version = view.version;
    expect(await sim.runtime.cancel(id, { reason: 'give up' })).toMatchObject({
      status: 'active',
      value: { running: 'purge_failed' },
      version,
      context: { cancellation: null },
    });
    expect(await sim.runtime.retry(id)).toMatchObject({ handled: true });
    expect((await runUntilResting(sim, id)).output).toMatchObject({
      outcome: 'completed',
      result: { purge: { removed: ['billingService', 'radiusAccount', 'ipAddress', 'cpeConfiguration', 'subscriber'], alreadyGone: [] } },
    });
    expect(await liveOf(lab)).toEqual([expect.stringMatching(/^customers\/customer\//)]);
    expect(lab.systems.customers.subscriber(input.subscriberId)?.status).toBe('deleted');
  });

  // The purge fails at its last call (deleting the subscriber), after it has
  // removed the billing service, the RADIUS account, the address and the CPE
  // configuration: nothing around those half-deleted records is undone.
  async function purgeFailingHalfWay() {
    const prepared = await preparedLab(subscriberDeprovisioning);
    const sim = await seedSimulation(prepared.lab);
    prepared.lab.faults.inject({ system: 'customers', operation: 'deleteSubscriber', mode: 'fail' });
    const { id } = await sim.runtime.start({ machine: 'subscriber-deprovisioning', input: prepared.input });
    return { ...prepared, sim, id, view: await runUntilResting(sim, id) };
  }

  test('a purge failing half-way waits in purge_failed; retried after the fault is cleared, it completes with no orphan', async () => {
    const { lab, input, before, sim, id, view } = await purgeFailingHalfWay();
    expect(view).toMatchObject({ status: 'active', value: { running: 'purge_failed' }, tags: ['failed'] });
    expect(view.context).toMatchObject({ failure: { step: 'purge' }, compensationFailure: null, cancellation: null });
    expect((await sim.runtime.describe(id)).workflowStatus).toBe('failed');
    expect(lab.calls.count('customers', 'deleteSubscriber')).toBe(maxAttemptsOf(machineOf('subscriber-deprovisioning'), 'purgeSubscriber'));
    expect((await stepOrder(sim, id)).filter((n) => n.startsWith('compensate.'))).toEqual([]);
    expect((await lab.records()).billing.services.find((s) => s.serviceId === input.serviceId)).toBeUndefined();
    expect(lab.systems.customers.subscriber(input.subscriberId)?.status).toBe('suspended');
    expect((await lab.records()).onu.activations).toEqual([]);

    lab.faults.clear();
    expect(await sim.runtime.retry(id)).toMatchObject({ handled: true, value: { running: 'purge' } });
    const done = await runUntilResting(sim, id);
    // The retry resumes: it goes over every record again (the lab's deletions
    // accept a record already gone, so they count as removed) and deletes the subscriber.
    expect(done.output).toMatchObject({ outcome: 'completed' });
    const purge = (done.output as { result: { purge: { removed: string[]; alreadyGone: string[] } } }).result.purge;
    expect(purge.removed).toContain('subscriber');
    expect([...purge.removed, ...purge.alreadyGone].sort()).toEqual([
      'billingService',
      'cpeConfiguration',
      'ipAddress',
      'radiusAccount',
      'subscriber',
    ]);
    expect(lab.calls.count('billing', 'removeService')).toBe(maxAttemptsOf(machineOf('subscriber-deprovisioning'), 'purgeSubscriber') + 1);
    expect(sim.errors).toEqual([]);
    expect(await lab.orphans(before)).toEqual([]);
    expect(await liveOf(lab)).toEqual([expect.stringMatching(/^customers\/customer\//)]);
    expect(lab.systems.customers.subscriber(input.subscriberId)?.status).toBe('deleted');
  });

  test('a purge finished by hand: operator.resolve with a reason completes the saga and records the resolution', async () => {
    const { lab, input, before, sim, id } = await purgeFailingHalfWay();
    const operator = { id: 'op-7', roles: ['operator'] };
    // Without a reason the event is refused.
    expect(await sim.runtime.send(id, { type: 'operator.resolve', reason: ' ' }, { caller: operator, source: 'operator' })).toMatchObject({
      handled: false,
    });
    await lab.systems.customers.deleteSubscriber(input.subscriberId);
    const reason = 'subscriber deleted by hand';
    expect(await sim.runtime.send(id, { type: 'operator.resolve', reason }, { caller: operator, source: 'operator' })).toMatchObject({
      handled: true,
    });
    const view = await runUntilResting(sim, id);
    expect(view.output).toMatchObject({ outcome: 'completed' });
    expect(view.context).toMatchObject({ failure: null, resolutions: [{ step: 'purge', reason }] });
    expect((await stepOrder(sim, id)).filter((n) => n.startsWith('compensate.'))).toEqual([]);
    expect(await lab.orphans(before)).toEqual([]);
    expect(await liveOf(lab)).toEqual([expect.stringMatching(/^customers\/customer\//)]);
  });

  // The purge is slow; a cancel arrives while it runs.
  async function cancelDuringPurge() {
    const { lab, input, before } = await preparedLab(subscriberDeprovisioning);
    const sim = await seedSimulation(lab);
    lab.faults.inject({ system: 'customers', operation: 'deleteSubscriber', mode: 'latency', latencyMs: 100 });
    const { id } = await sim.runtime.start({ machine: 'subscriber-deprovisioning', input });
    const running = runUntilResting(sim, id);
    await eventually(async () => lab.calls.count('customers', 'deleteSubscriber') === 1, 'the purge to run', 10_000, 5);
    const cancelled = await sim.runtime.cancel(id, { reason: 'too late' });
    await running;
    return { lab, input, before, sim, id, cancelled, view: await runUntilResting(sim, id) };
  }

  test('a cancel during the purge is refused: nothing changes, the purge completes and no ONU stays active', async () => {
    const { lab, input, before, sim, id, cancelled, view } = await cancelDuringPurge();
    expect(cancelled).toMatchObject({ status: 'active', value: { running: 'purge' }, context: { cancellation: null, pivoted: true } });
    expect(view.status).toBe('done');
    expect(view.output).toMatchObject({ outcome: 'completed' });
    expect(view.context).toMatchObject({ cancellation: null });
    const history = (await sim.runtime.history(id, { limit: 1000 })).map((e) => e.type);
    expect(history).not.toContain('workflow.cancel');
    expect((await stepOrder(sim, id)).filter((n) => n.startsWith('compensate.'))).toEqual([]);
    expect((await lab.records()).onu.activations).toEqual([]);
    expect(lab.systems.customers.subscriber(input.subscriberId)?.status).toBe('deleted');
    expect(await lab.orphans(before)).toEqual([]);
    expect(sim.errors).toEqual([]);
  });

  test('workflow.cancel sent directly while the purge runs is not handled', async () => {
    const { lab, input } = await preparedLab(subscriberDeprovisioning);
    const sim = await seedSimulation(lab);
    lab.faults.inject({ system: 'billing', operation: 'removeService', mode: 'latency', latencyMs: 100 });
    const { id } = await sim.runtime.start({ machine: 'subscriber-deprovisioning', input });
    const running = runUntilResting(sim, id);
    await eventually(async () => lab.calls.count('billing', 'removeService') === 1, 'the purge to run', 10_000, 5);
    expect(await sim.runtime.send(id, { type: 'workflow.cancel', reason: 'too late' }, { source: 'operator' })).toMatchObject({
      handled: false,
      value: { running: 'purge' },
    });
    await running;
    expect((await runUntilResting(sim, id)).output).toMatchObject({ outcome: 'completed' });
    expect((await sim.runtime.history(id, { limit: 1000 })).map((e) => e.type)).not.toContain('workflow.cancel');
  });
});

describe('subscriber-deprovisioning: a cancel during the ONU deactivation', () => {
  // The step before the pivot still compensates: the ONU is re-activated
  // under the id it had, so the id the systems hold stays valid.
  async function cancelDuringOnu() {
    const { lab, input, before, state } = await preparedLab(subscriberDeprovisioning);
    const sim = await seedSimulation(lab);
    lab.faults.inject({ system: 'onu', operation: 'deactivate', mode: 'latency', latencyMs: 100 });
    const { id } = await sim.runtime.start({ machine: 'subscriber-deprovisioning', input });
    const running = runUntilResting(sim, id);
    await eventually(async () => lab.calls.count('onu', 'deactivate') === 1, 'the ONU deactivation to run', 10_000, 5);
    const cancelled = await sim.runtime.cancel(id, { reason: 'customer stays' });
    await running;
    lab.faults.clear();
    return { lab, input, before, state, sim, id, cancelled, view: await runUntilResting(sim, id) };
  }

  test('re-activates the ONU under its old id and restores every status: no orphan', async () => {
    const { lab, input, before, state, sim, id, cancelled, view } = await cancelDuringOnu();
    expect(cancelled).toMatchObject({
      status: 'active',
      value: { running: 'onu' },
      context: { cancellation: { reason: 'customer stays' } },
    });
    expect(view.output).toMatchObject({ outcome: 'cancelled', reason: 'customer stays' });
    expect(await stepOrder(sim, id)).toEqual([
      'subscriber',
      'radiusAccount',
      'billingService',
      'onu',
      'compensate.onu',
      'compensate.billingService',
      'compensate.radiusAccount',
      'compensate.subscriber',
    ]);
    expect(lab.calls.count('billing', 'removeService')).toBe(0);
    expect((await lab.records()).onu.activations).toMatchObject([
      {
        onuId: input.onu.onuId,
        serialNumber: input.onu.serialNumber,
        oltPort: input.onu.oltPort,
        subscriberId: input.subscriberId,
        operStatus: 'ACTIVE',
      },
    ]);
    expect(await lab.orphans(before)).toEqual([]);
    expect(await lab.liveRecords()).toEqual(before);
    expect(await serviceState(lab, input)).toEqual(state);
    expect(sim.errors).toEqual([]);
  });

  test('deprovisioning again with the ids the subscriber was provisioned with leaves no ONU active', async () => {
    const { lab, input, sim, view } = await cancelDuringOnu();
    expect(view.output).toMatchObject({ outcome: 'cancelled' });
    const again = await sim.runtime.start({ machine: 'subscriber-deprovisioning', input });
    expect((await runUntilResting(sim, again.id)).output).toMatchObject({ outcome: 'completed' });
    expect((await lab.records()).onu.activations).toEqual([]);
    expect(await liveOf(lab)).toEqual([expect.stringMatching(/^customers\/customer\//)]);
  });
});
