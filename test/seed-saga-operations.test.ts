import { describe, expect, test } from 'vitest';
import { createLab, type Lab } from '../lab/index.ts';
import { sagaStepStatuses, type SagaSnapshotLike } from '../machines/index.ts';
import { eventually } from './support/poll.ts';
import {
  fullProvisioningInput,
  machineOf,
  preparedLab,
  refs,
  runUntilResting,
  seedSimulation,
  stepOrder,
  subscriberDeprovisioning,
  subscriberProvisioning,
  tenantInput,
  tenantProvisioning,
  type SagaSpec,
} from './support/seed-harness.ts';

/**
 * What operators and callers do with the seed sagas, through the runtime
 * (simulation mode) and the lab: failed compensations retried or resolved by
 * hand, skipped steps, responses lost after the change was applied,
 * idempotent starts and cancellation while a step is in flight.
 */

const operator = { id: 'op-7', roles: ['operator'] };
const provisioning = [subscriberProvisioning, tenantProvisioning].map((s) => [s.machine, s] as const);

/** A saga whose last step fails and whose undo of `stuck` keeps failing: it waits in `compensating.<stuck>_failed`. */
async function stuckInCompensation(spec: SagaSpec, stuck: string) {
  const prepared = await preparedLab(spec);
  const sim = await seedSimulation(prepared.lab);
  const last = spec.steps.at(-1)!;
  const undo = spec.steps.find((s) => s.name === stuck)!.compensation!;
  prepared.lab.faults.inject({ ...last.action, mode: 'fail' });
  prepared.lab.faults.inject({ ...undo, mode: 'fail' });
  const { id } = await sim.runtime.start({ machine: spec.machine, input: prepared.input });
  const view = await runUntilResting(sim, id);
  expect(view.value).toEqual({ compensating: `${stuck}_failed` });
  expect(view.tags).toEqual(['compensation_failed']);
  const statuses = sagaStepStatuses(machineOf(spec.machine), view as unknown as SagaSnapshotLike);
  expect(statuses.find((s) => s.step === stuck)).toMatchObject({
    status: 'compensation_failed',
    error: { message: expect.stringContaining('injected fault') },
  });
  return { ...prepared, sim, id, undo };
}

describe.each([
  [subscriberProvisioning.machine, subscriberProvisioning, 'account'],
  [tenantProvisioning.machine, tenantProvisioning, 'user'],
] as const)('%s: a compensation that keeps failing', (_name, spec, stuckKind) => {
  const stuck = spec.steps[2]!.name;

  test(`waits tagged compensation_failed; runtime.retry after the fault is cleared finishes the roll back`, async () => {
    const { lab, sim, id, before } = await stuckInCompensation(spec, stuck);
    // Nothing moves while it waits: no timer, no step.
    expect(await sim.next()).toBe(false);
    lab.faults.clear();
    const retried = await sim.runtime.retry(id, { caller: operator });
    expect(retried).toMatchObject({ handled: true, value: { compensating: stuck } });
    const view = await runUntilResting(sim, id);
    expect(view.output).toMatchObject({ outcome: 'rolled_back', failure: { step: spec.steps.at(-1)!.name }, resolutions: [] });
    expect(await lab.orphans(before)).toEqual([]);
    // The undo ran again as a new invocation: one failed row, one done row.
    const undoRows = (await sim.runtime.effects(id)).filter((e) => e.name === `compensate.${stuck}`);
    expect(undoRows.map((e) => e.status)).toEqual(['failed', 'done']);
    const history = await sim.runtime.history(id, { limit: 1000 });
    expect(history.filter((e) => e.type === 'operator.retry')).toMatchObject([{ source: 'operator', actor: 'op-7' }]);
    // Retrying a finished saga changes nothing.
    expect(await sim.runtime.retry(id)).toMatchObject({ handled: false, status: 'done' });
  });

  test('operator.resolve with a reason records the resolution and goes on with the remaining undos', async () => {
    const { lab, sim, id, before, undo } = await stuckInCompensation(spec, stuck);
    // Without a reason the event is refused and nothing is stored.
    expect(await sim.runtime.send(id, { type: 'operator.resolve', reason: ' ' }, { caller: operator })).toMatchObject({ handled: false });
    // The operator removes the record by hand, then says so.
    const leftover = (await lab.orphans(before)).filter((r) => r.system === undo.system && r.kind === stuckKind);
    expect(leftover).toHaveLength(1);
    await removeByHand(lab, leftover[0]!);
    const reason = 'removed by hand after the outage';
    expect(await sim.runtime.send(id, { type: 'operator.resolve', reason }, { caller: operator, source: 'operator' })).toMatchObject({
      handled: true,
    });
    const view = await runUntilResting(sim, id);
    expect(view.output).toMatchObject({ outcome: 'rolled_back', resolutions: [{ step: stuck, reason }] });
    const statuses = sagaStepStatuses(machineOf(spec.machine), view as unknown as SagaSnapshotLike);
    expect(statuses.find((s) => s.step === stuck)).toMatchObject({ status: 'compensated', resolution: reason });
    const history = await sim.runtime.history(id, { limit: 1000 });
    expect(history.filter((e) => e.type === 'operator.resolve')).toMatchObject([
      { source: 'operator', actor: 'op-7', payload: { reason } },
    ]);
    // The steps before the resolved one were still undone.
    const undone = (await stepOrder(sim, id)).filter((n) => n.startsWith('compensate.'));
    expect(undone.at(-1)).toBe(`compensate.${spec.steps[0]!.name}`);
    expect(await lab.orphans(before)).toEqual([]);
  });
});

// What an operator would do in the system itself; bypasses the lab's faults.
async function removeByHand(lab: Lab, record: { system: string; id: string }): Promise<void> {
  if (record.system === 'radius') await lab.systems.radius.deleteAccount(record.id);
  else if (record.system === 'tenants') lab.systems.tenants.remove('users', record.id);
  else throw new Error(`no manual removal for ${record.system}`);
}

describe('subscriber-provisioning: skipped optional steps', () => {
  async function withExistingCustomer() {
    const lab = createLab();
    const customer = await lab.clients.customers.createCustomer(
      { name: 'Existing', email: 'old@example.net' },
      { idempotencyKey: 'setup' },
    );
    const { customer: _c, ipPrefixId: _p, cpe: _cpe, ...rest } = fullProvisioningInput('bob');
    const input = { ...rest, customerId: customer.id, staticIp: '203.0.113.9' };
    const before = refs(await lab.liveRecords());
    lab.calls.reset();
    return { lab, input, before, sim: await seedSimulation(lab) };
  }

  test('an existing customer, a static IP and no CPE skip three steps; the output still names them', async () => {
    const { lab, input, sim } = await withExistingCustomer();
    const { id } = await sim.runtime.start({ machine: 'subscriber-provisioning', input });
    const view = await runUntilResting(sim, id);
    expect(view.output).toMatchObject({
      outcome: 'completed',
      result: { customerId: input.customerId, ipAddress: '203.0.113.9', cpeDeviceId: null },
    });
    expect(view.context).toMatchObject({ skipped: ['customer', 'ipAllocation', 'cpeConfiguration'] });
    expect(await stepOrder(sim, id)).toEqual(['subscriber', 'radiusAccount', 'onuActivation', 'billingService']);
    expect((await lab.records()).radius.radreply).toContainEqual(
      expect.objectContaining({ username: 'bob', attribute: 'Framed-IP-Address', value: '203.0.113.9' }),
    );
  });

  test('a roll back never undoes a skipped step', async () => {
    const { lab, input, before, sim } = await withExistingCustomer();
    lab.faults.inject({ system: 'billing', operation: 'addService', mode: 'fail' });
    const { id } = await sim.runtime.start({ machine: 'subscriber-provisioning', input });
    const view = await runUntilResting(sim, id);
    expect(view.output).toMatchObject({ outcome: 'rolled_back', failure: { step: 'billingService' } });
    expect(await stepOrder(sim, id)).toEqual([
      // The failed call is looked up by its key (it never applied: nothing of it to undo).
      'subscriber',
      'radiusAccount',
      'onuActivation',
      'billingService',
      'recover.billingService',
      'compensate.onuActivation',
      'compensate.radiusAccount',
      'compensate.subscriber',
    ]);
    for (const [system, operation] of [
      ['customers', 'createCustomer'],
      ['customers', 'deleteCustomer'],
      ['ipam', 'allocateAddress'],
      ['ipam', 'releaseAddress'],
      ['cpe', 'configure'],
      ['cpe', 'reset'],
    ] as const) {
      expect(lab.calls.count(system, operation), `${system}.${operation}`).toBe(0);
    }
    // The linked customer is still there, and nothing else is.
    expect(await lab.orphans(before)).toEqual([]);
    expect(await lab.liveRecords()).toEqual(before);
  });
});

describe.each(provisioning)('%s: a response lost after the change was applied', (_name, spec) => {
  test.each(spec.steps.map((s) => [s.name, s] as const))(
    'at %s: the retry with the same key creates nothing twice',
    async (_step, step) => {
      const reference = await preparedLab(spec);
      const refSim = await seedSimulation(reference.lab);
      const { id: refId } = await refSim.runtime.start({ machine: spec.machine, input: reference.input });
      await runUntilResting(refSim, refId);

      const { lab, input } = await preparedLab(spec);
      const sim = await seedSimulation(lab);
      lab.faults.inject({ ...step.action, mode: 'failAfterApply', times: 1 });
      const { id } = await sim.runtime.start({ machine: spec.machine, input });
      const view = await runUntilResting(sim, id);
      expect(view.output).toMatchObject({ outcome: 'completed' });
      expect(lab.calls.count(step.action.system, step.action.operation)).toBe(2);
      const row = (await sim.runtime.effects(id)).find((e) => e.name === step.name)!;
      expect(row).toMatchObject({ status: 'done', attempts: 2 });
      // Same records, same ids as a run without the lost response.
      expect(await lab.liveRecords()).toEqual(await reference.lab.liveRecords());
    },
  );
});

describe('tenant-provisioning: idempotent start', () => {
  test('the key tenant:{id} returns the same instance while it runs and after; the lab holds one tenant', async () => {
    const lab = createLab();
    const sim = await seedSimulation(lab);
    const input = tenantInput('globex');
    const start = () => sim.runtime.start({ machine: 'tenant-provisioning', input, idempotencyKey: `tenant:${input.tenantId}` });
    const first = await start();
    const whileRunning = await start();
    expect(first.created).toBe(true);
    expect(whileRunning).toMatchObject({ id: first.id, created: false });
    await runUntilResting(sim, first.id);
    expect(await start()).toMatchObject({ id: first.id, created: false, status: 'done', output: { outcome: 'completed' } });
    expect((await lab.records()).tenants.tenants).toHaveLength(1);
    expect(lab.calls.count('tenants', 'createTenant')).toBe(1);
    expect((await sim.runtime.list({ machineId: 'tenant-provisioning' })).items).toHaveLength(1);
    // The same key with another input is a caller error, not a second tenant.
    await expect(
      sim.runtime.start({ machine: 'tenant-provisioning', input: { ...input, plan: 'other' }, idempotencyKey: 'tenant:globex' }),
    ).rejects.toMatchObject({ code: 'idempotency_conflict' });
  });
});

describe.each([
  [subscriberProvisioning, 'onuActivation'],
  [tenantProvisioning, 'activation'],
  // The last step before deprovisioning's pivot: a cancel there still undoes everything.
  [subscriberDeprovisioning, 'onu'],
] as const)('cancellation while a step is slow', (spec, slow) => {
  test(`${spec.machine}: cancelled during ${slow}, the step finishes, then everything done is undone`, async () => {
    const { lab, input, before, state } = await preparedLab(spec);
    const sim = await seedSimulation(lab);
    const index = spec.steps.findIndex((s) => s.name === slow);
    const action = spec.steps[index]!.action;
    lab.faults.inject({ ...action, mode: 'latency', latencyMs: 300 });
    const { id } = await sim.runtime.start({ machine: spec.machine, input });
    // Real time: the lab's latency is wall-clock, so the steps before it run on their own.
    await eventually(async () => lab.calls.count(action.system, action.operation) === 1, `${slow} to be called`, 10_000, 5);
    const cancelled = await sim.runtime.cancel(id, { reason: 'customer withdrew', caller: operator });
    expect(cancelled).toMatchObject({
      status: 'active',
      value: { running: slow },
      context: { cancellation: { reason: 'customer withdrew' } },
    });
    const view = await runUntilResting(sim, id);
    expect(view.output).toMatchObject({ outcome: 'cancelled', reason: 'customer withdrew', failure: null });
    const done = spec.steps.slice(0, index + 1);
    const undone = done
      .filter((s) => s.compensation)
      .reverse()
      .map((s) => `compensate.${s.name}`);
    expect(await stepOrder(sim, id)).toEqual([...done.map((s) => s.name), ...undone]);
    expect(await lab.orphans(before)).toEqual([]);
    if (spec.state) expect(await spec.state(lab, input)).toEqual(state);
    // Nothing after the slow step ran.
    for (const later of spec.steps.slice(index + 1)) expect(lab.calls.count(later.action.system, later.action.operation)).toBe(0);
  });
});

describe('runtime.cancel while a saga compensates', () => {
  // A saga ignores `workflow.cancel` while it compensates (machines/README):
  // runtime.cancel then changes nothing, and the roll back in flight finishes
  // by itself.
  async function cancelDuringCompensation() {
    const { lab, input, before } = await preparedLab(subscriberProvisioning);
    const sim = await seedSimulation(lab);
    lab.faults.inject({ system: 'billing', operation: 'addService', mode: 'fail' });
    lab.faults.inject({ system: 'customers', operation: 'deleteSubscriber', mode: 'latency', latencyMs: 300 });
    const { id } = await sim.runtime.start({ machine: 'subscriber-provisioning', input });
    const running = runUntilResting(sim, id);
    await eventually(async () => lab.calls.count('customers', 'deleteSubscriber') === 1, 'the subscriber undo to be called', 10_000, 5);
    const cancelled = await sim.runtime.cancel(id, { reason: 'impatient caller', caller: operator });
    await running;
    return { sim, id, cancelled, view: await runUntilResting(sim, id), orphans: await lab.orphans(before) };
  }

  test('changes nothing: the roll back finishes rolled_back and leaves no orphan', async () => {
    const { sim, id, cancelled, view, orphans } = await cancelDuringCompensation();
    expect(cancelled).toMatchObject({
      status: 'active',
      value: { compensating: 'subscriber' },
      tags: ['rolling_back'],
      context: { cancellation: null },
    });
    expect(view.status).toBe('done');
    expect(view.output).toMatchObject({ outcome: 'rolled_back', failure: { step: 'billingService' } });
    expect(view.context).toMatchObject({ cancellation: null });
    expect(orphans).toEqual([]);
    expect((await stepOrder(sim, id)).filter((n) => n.startsWith('compensate.'))).toEqual([
      'compensate.cpeConfiguration',
      'compensate.onuActivation',
      'compensate.ipAllocation',
      'compensate.radiusAccount',
      'compensate.subscriber',
      'compensate.customer',
    ]);
    const history = (await sim.runtime.history(id, { limit: 1000 })).map((e) => e.type);
    expect(history).not.toContain('workflow.cancel');
    expect(history).not.toContain('statekeeper.stop');
    expect(sim.errors).toEqual([]);
  });
});
