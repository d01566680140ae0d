import { describe, expect, test } from 'vitest';
import type { Lab } from '../adapters/lab/index.ts';
import { eventually } from './support/poll.ts';
import {
  machineOf,
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
 * and the lab holds nothing the workflow created.
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
      `billing/service/${out.serviceId}`, 'cpe/cpe-config/cpe-0001', `customers/customer/${out.customerId}`,
      `customers/subscriber/${out.subscriberId}`, `ipam/ip-address/${ip[0]!.id}`, `onu/onu/${out.onuId}`, 'radius/account/ada',
    ]);
  });

  test('tenant-provisioning leaves an active tenant with everything it needs', async () => {
    const { lab, view } = await runSaga(tenantProvisioning);
    expect(view.output).toMatchObject({ outcome: 'completed', result: { tenantId: 'acme', schema: 'tenant_acme', hostname: 'acme.example.net' } });
    const { tenants, billing } = await lab.records();
    expect(tenants.tenants).toEqual([{ tenantId: 'acme', name: 'Acme Networks', plan: 'pro', status: 'active' }]);
    expect([tenants.schemas.length, tenants.users.length, tenants.ingresses.length, tenants.plans.length, tenants.channels.length]).toEqual([1, 1, 1, 3, 1]);
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

/**
 * Orphans a scenario leaves because of a known bug (see "known bugs" below),
 * asserted exactly so that any other orphan still fails its scenario.
 */
const KNOWN_ORPHANS: Record<string, unknown[]> = {
  'subscriber-deprovisioning/purge': [{ system: 'onu', kind: 'onu', id: 'onu_000002' }],
};
const knownOrphanCount = Object.values(KNOWN_ORPHANS).reduce((n, list) => n + list.length, 0);

describe.each(sagaSpecs.map((spec) => [spec.machine, spec] as const))('%s: a failure at every step', (_name, spec) => {
  const machine = machineOf(spec.machine);
  test.each(spec.steps.map((s, i) => [s.name, i] as const))('fails at %s: retries run out, completed steps undone in reverse, no orphans', async (stepName, index) => {
    const { lab, before, state, input, sim, id, view } = await runSaga(spec, { step: stepName });
    scenarios++;
    const failing = spec.steps[index]!;
    expect(view.status).toBe('done');
    expect(view.output).toMatchObject({ outcome: 'rolled_back', failure: { step: stepName }, resolutions: [] });

    // The failing step was attempted as often as its policy allows, once per attempt.
    const src = (await sim.runtime.effects(id)).find((e) => e.name === stepName)!.target!;
    expect(lab.calls.count(failing.action.system, failing.action.operation)).toBe(maxAttemptsOf(machine, src));

    const completed = spec.steps.slice(0, index);
    const undone = completed.filter((s) => s.compensation).reverse().map((s) => `compensate.${s.name}`);
    expect(await stepOrder(sim, id)).toEqual([...completed.map((s) => s.name), stepName, ...undone]);
    const history = (await sim.runtime.history(id, { limit: 1000 })).map((e) => e.type);
    expect(history.filter((t) => t.startsWith('xstate.done.actor.compensate.'))).toEqual(undone.map((u) => `xstate.done.actor.${u}`));

    const orphans = await lab.orphans(before);
    orphanTotal += orphans.length;
    expect(orphans).toEqual(KNOWN_ORPHANS[`${spec.machine}/${stepName}`] ?? []);
    if (spec.state) expect(await spec.state(lab, input)).toEqual(state);
  });
});

test('the failure matrix leaves no orphan record but the known re-activated ONU', () => {
  // Printed so a run shows the figure, not only a green tick.
  console.log(`failure matrix: ${scenarios} scenarios, ${orphanTotal} orphan records (${knownOrphanCount} from the known ONU bug)`);
  expect(scenarios).toBe(sagaSpecs.reduce((n, s) => n + s.steps.length, 0));
  expect(orphanTotal - knownOrphanCount).toBe(0);
});

describe('known bugs', () => {
  // subscriber-deprovisioning undoes its `onu` step with `activateOnu`, which
  // activates the serial number again under a NEW onuId. The saga records that
  // id nowhere (not in its output either), so the id the caller holds from
  // provisioning is stale: the lab shows the new activation as an orphan.
  test.fails('the failure matrix leaves no orphan record at all', () => {
    expect(orphanTotal).toBe(0);
  });

  test.fails('a deprovisioning rolled back after a failed purge restores the ONU it deactivated, under the same id', async () => {
    const { lab, before, view } = await runSaga(subscriberDeprovisioning, { step: 'purge' });
    expect(view.output).toMatchObject({ outcome: 'rolled_back' });
    expect(await lab.orphans(before)).toEqual([]);
  });

  // The consequence: deprovisioning the subscriber again with the ids it was
  // provisioned with "completes", deactivating the old (already gone) ONU id,
  // and the re-activated ONU stays active for a subscriber that no longer exists.
  test.fails('deprovisioning again after such a rollback leaves no ONU active', async () => {
    const { lab, input, sim, view } = await runSaga(subscriberDeprovisioning, { step: 'purge' });
    expect(view.output).toMatchObject({ outcome: 'rolled_back' });
    const again = await sim.runtime.start({ machine: 'subscriber-deprovisioning', input });
    expect((await runUntilResting(sim, again.id)).output).toMatchObject({ outcome: 'completed' });
    expect((await lab.records()).onu.activations).toEqual([]);
  });

  // The machine's remarks say a purge that still fails after its retries has
  // the reversible steps undone. When the purge fails half-way (here at its
  // last call, deleting the subscriber), it has already removed the billing
  // service, so undoing `billingService` (resume the service) answers 404,
  // which is not retryable: the roll back stops in
  // `compensating.billingService_failed` and waits for an operator.
  const purgeFailingHalfWay = async () => {
    const prepared = await preparedLab(subscriberDeprovisioning);
    const sim = await seedSimulation(prepared.lab);
    prepared.lab.faults.inject({ system: 'customers', operation: 'deleteSubscriber', mode: 'fail' });
    const { id } = await sim.runtime.start({ machine: 'subscriber-deprovisioning', input: prepared.input });
    return runUntilResting(sim, id);
  };

  test('today a purge failing half-way stops the roll back at billingService, waiting for an operator', async () => {
    const view = await purgeFailingHalfWay();
    expect(view.value).toEqual({ compensating: 'billingService_failed' });
    expect(view.context).toMatchObject({ compensationFailure: { step: 'billingService', error: { message: expect.stringContaining('does not exist') } } });
  });

  test.fails('a purge failing half-way still undoes the reversible steps, as the machine says', async () => {
    const view = await purgeFailingHalfWay();
    expect(view.output).toMatchObject({ outcome: 'rolled_back', failure: { step: 'purge' } });
  });

  // The purge is deprovisioning's point of no return, yet `workflow.cancel`
  // is accepted while it runs: the purge finishes, then the saga "undoes"
  // everything: it re-activates the ONU of a subscriber that no longer
  // exists, and stops at the billing service the purge removed (404).
  const cancelDuringPurge = async () => {
    const { lab, input } = await preparedLab(subscriberDeprovisioning);
    const sim = await seedSimulation(lab);
    lab.faults.inject({ system: 'customers', operation: 'deleteSubscriber', mode: 'latency', latencyMs: 100 });
    const { id } = await sim.runtime.start({ machine: 'subscriber-deprovisioning', input });
    const running = runUntilResting(sim, id);
    await eventually(async () => lab.calls.count('customers', 'deleteSubscriber') === 1, 'the purge to run', 10_000, 5);
    await sim.runtime.cancel(id, { reason: 'too late' });
    await running;
    return { lab, input, view: await runUntilResting(sim, id) };
  };

  test('today a cancel during the purge re-activates the ONU and waits in compensating.billingService_failed', async () => {
    const { lab, input, view } = await cancelDuringPurge();
    expect(view.value).toEqual({ compensating: 'billingService_failed' });
    expect(lab.systems.customers.subscriber(input.subscriberId)?.status).toBe('deleted');
    expect((await lab.records()).onu.activations).toMatchObject([{ subscriberId: input.subscriberId }]);
  });

  test.fails('a cancel during the purge ends the saga with no ONU active for the purged subscriber', async () => {
    const { lab, view } = await cancelDuringPurge();
    expect(view.status).toBe('done');
    expect((await lab.records()).onu.activations).toEqual([]);
  });
});
