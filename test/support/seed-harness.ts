import type { AnyStateMachine } from 'xstate';
import type { RuntimeObserver } from '../../runtime/observer.ts';
import { createBundledSteps } from '../../actors/index.ts';
import type { StepRegistry } from '../../runtime/step-types.ts';
import { createLab, type Lab, type LiveRecord, type OperationName, type SystemName } from '../../lab/index.ts';
import { bundledMachines, sagaMetaOf } from '../../machines/index.ts';
import { stepPolicyOf } from '../../runtime/step.ts';
import type { InstanceView } from '../../runtime/index.ts';
import type { InstanceStore } from '../../runtime/ports.ts';
import { createSimulation, type Simulation } from '../../runtime/testing/index.ts';

/**
 * Shared set-up of the seed-workflow tests: the bundled machines on a
 * simulation runtime whose steps call an in-process lab, and a description of
 * each seed saga (how to prepare its input, which lab operation each step and
 * each undo calls, which state a rollback must restore).
 */

/** One lab operation, as faults and call counts name it. */
export interface LabOp {
  system: SystemName;
  operation: OperationName;
}

/** A saga step with the lab operations of its action and its undo. */
export interface SpecStep {
  name: string;
  action: LabOp;
  compensation?: LabOp;
}

/** A seed saga as the failure matrix and the restore tests drive it. */
export interface SagaSpec {
  machine: string;
  /** Creates what the workflow works on (a provisioned subscriber, say) and returns its input. */
  prepare(lab: Lab): Promise<any>;
  /** Steps in order; with the prepared input, every one of them runs. */
  steps: SpecStep[];
  /** Lab state a rollback must leave as it found it, beyond the live records (statuses, say). */
  state?(lab: Lab, input: any): Promise<unknown>;
}

/** Each bundled machine with its version, as `createSimulation` takes them. */
export const seedMachines = bundledMachines.map((b) => ({ machine: b.machine, options: b.options }));

/** The bundled machine with this id. */
export function machineOf(id: string): AnyStateMachine {
  const found = bundledMachines.find((b) => b.machine.id === id);
  if (!found) throw new Error(`no bundled machine "${id}"`);
  return found.machine;
}

/**
 * Whether the step is forward-only: the saga's pivot or a step after it. Such a
 * step is never undone; when it fails for good the saga waits in
 * `running.<step>_failed` for an operator instead of rolling back.
 */
export function isForwardOnly(machineId: string, step: string): boolean {
  return sagaMetaOf(machineOf(machineId))?.steps.find((s) => s.name === step)?.forwardOnly === true;
}

/**
 * Whether a failure of `step` whose outcome is unknown is looked up by its idempotency key (a state of the
 * machine invokes `recover.<step>`) before the earlier steps are undone.
 */
export function recoversByKey(machineId: string, step: string): boolean {
  const visit = (node: { invoke: { id: string }[]; states: Record<string, unknown> }): boolean =>
    node.invoke.some((i) => i.id === `recover.${step}`) || Object.values(node.states).some((n) => visit(n as typeof node));
  return visit(machineOf(machineId).root as never);
}

/** Whether the instance waits for an operator: a failed undo (`compensation_failed`) or a failed forward-only step (`failed`). */
export function waitsForOperator(view: Pick<InstanceView, 'tags'>): boolean {
  return view.tags.includes('compensation_failed') || view.tags.includes('failed');
}

/** Attempts a step makes before the chart sees its failure (the machine's policy, else the default 3). */
export function maxAttemptsOf(machine: AnyStateMachine, src: string): number {
  return stepPolicyOf(machine.implementations.actors?.[src])?.maxAttempts ?? 3;
}

/** A simulation of the seed workflows; `errors` collects what the runtime reported from background work. */
export type SeedSimulation = Simulation & { readonly errors: unknown[] };

/** A simulation running every bundled machine with step implementations on `lab`. */
export async function seedSimulation(
  lab: Lab,
  options: { store?: InstanceStore; startTime?: Date; wrap?: (steps: StepRegistry) => StepRegistry; observer?: RuntimeObserver } = {},
): Promise<SeedSimulation> {
  const errors: unknown[] = [];
  const steps = createBundledSteps(lab.clients);
  const sim = await createSimulation({
    machines: seedMachines,
    steps: options.wrap ? options.wrap(steps) : steps,
    ...(options.store && { store: options.store }),
    ...(options.startTime && { startTime: options.startTime }),
    ...(options.observer && { observer: options.observer }),
    onError: (e) => void errors.push(e),
  });
  return Object.assign(sim, { errors });
}

/**
 * Lets the instance run (steps, retries on the simulated clock) until it has
 * finished, waits for an operator (`compensation_failed`, or `failed` past a
 * saga's pivot), or nothing more is scheduled.
 */
export async function runUntilResting(sim: Simulation, id: string, stop: () => boolean = () => false): Promise<InstanceView> {
  for (let round = 0; round < 10_000; round++) {
    await sim.settle();
    const view = await sim.runtime.get(id);
    if (stop() || view.status !== 'active' || waitsForOperator(view)) return view;
    if (!(await sim.next())) return view;
  }
  throw new Error(`instance ${id} kept running for 10,000 timer rounds`);
}

/** Names of the instance's step effects in the order they were created (`compensate.<step>` for undos). */
export async function stepOrder(sim: Simulation, id: string): Promise<string[]> {
  return (await sim.runtime.effects(id)).filter((e) => e.kind === 'step').map((e) => e.name);
}

/** Types and state values of the instance's history, for comparing two runs. */
export async function historyTrace(sim: Simulation, id: string): Promise<string[]> {
  return (await sim.runtime.history(id, { limit: 1000 })).map((e) => `${e.type} -> ${JSON.stringify(e.stateValue)}`);
}

/** Live records as refs, to tell later orphans from what existed before. */
export function refs(records: LiveRecord[]): LiveRecord[] {
  return records.map(({ system, kind, id }) => ({ system, kind, id }));
}

// ---------------------------------------------------------------- inputs

const op = <S extends SystemName>(system: S, operation: OperationName<S>): LabOp => ({ system, operation });
const key = (() => {
  let n = 0;
  return (what: string) => ({ idempotencyKey: `setup:${what}:${++n}` });
})();

/** Input of a subscriber provisioning that runs all 7 steps. */
export function fullProvisioningInput(username = 'ada') {
  return {
    customer: { name: 'Ada Lovelace', email: `${username}@example.net` },
    subscriber: { username, plan: 'standard' },
    radius: { password: 's3cret-pass', rateLimit: '100M/100M' },
    ipPrefixId: 1,
    onu: { serialNumber: 'ALCLf0e1d2c3', oltPort: 'olt1/1/1' },
    cpe: { deviceId: 'cpe-0001' },
  };
}

/** Input of a tenant provisioning. */
export function tenantInput(tenantId = 'acme') {
  return { tenantId, name: 'Acme Networks', plan: 'pro', adminEmail: `admin@${tenantId}.example.net`, hostname: `${tenantId}.example.net` };
}

/** A subscriber provisioned in the lab by hand (every record deprovisioning removes). */
export async function provisionByHand(lab: Lab, options: { suspended?: boolean } = {}) {
  const { customers, radius, ipam, onu, cpe, billing } = lab.clients;
  const customer = await customers.createCustomer({ name: 'Grace Hopper', email: 'grace@example.net' }, key('customer'));
  const subscriber = await customers.createSubscriber({ customerId: customer.id, username: 'grace', plan: 'basic' }, key('subscriber'));
  await radius.createAccount({ username: 'grace', password: 'grace-pass-1' }, key('radius'));
  const ip = await ipam.allocateAddress({ prefixId: 1, description: 'subscriber grace' }, key('ipam'));
  const serialNumber = 'HWTCa1b2c3d4';
  const { onuId } = await onu.activate({ serialNumber, oltPort: 'olt1/1/2', subscriberId: subscriber.id }, key('onu'));
  await cpe.configure({ deviceId: 'cpe-grace', parameterValues: [['Device.Username', 'grace']] }, key('cpe'));
  const { serviceId } = await billing.addService({ customerId: customer.id, subscriberId: subscriber.id, plan: 'basic' }, key('service'));
  if (options.suspended) {
    await customers.setSubscriberStatus(subscriber.id, 'suspended', key('suspend'));
    await radius.setSuspended('grace', true, key('suspend'));
    await billing.setServiceStatus(serviceId, 'suspended', key('suspend'));
  }
  return {
    customerId: customer.id,
    subscriberId: subscriber.id,
    username: 'grace',
    serviceId,
    addressId: ip.id,
    onuId,
    serialNumber,
    oltPort: 'olt1/1/2',
    cpeDeviceId: 'cpe-grace',
  };
}

/** Subscriber, RADIUS and billing status of the hand-provisioned subscriber, plus its active ONUs by serial number. */
export async function serviceState(lab: Lab, input: { subscriberId: string; username: string; serviceId: string }) {
  const records = await lab.records();
  const reject = records.radius.radcheck.some((r) => r.username === input.username && r.value === 'Reject');
  return {
    subscriber: lab.systems.customers.subscriber(input.subscriberId)?.status,
    radiusSuspended: reject,
    service: records.billing.services.find((s) => s.serviceId === input.serviceId)?.status,
    onus: records.onu.activations.map((o) => `${o.serialNumber}@${o.oltPort}`).sort(),
  };
}

// ---------------------------------------------------------------- the seed sagas

/** subscriber-provisioning: 7 steps, every one run with {@link fullProvisioningInput}. */
export const subscriberProvisioning: SagaSpec = {
  machine: 'subscriber-provisioning',
  prepare: async () => fullProvisioningInput(),
  steps: [
    { name: 'customer', action: op('customers', 'createCustomer'), compensation: op('customers', 'deleteCustomer') },
    { name: 'subscriber', action: op('customers', 'createSubscriber'), compensation: op('customers', 'deleteSubscriber') },
    { name: 'radiusAccount', action: op('radius', 'createAccount'), compensation: op('radius', 'deleteAccount') },
    { name: 'ipAllocation', action: op('ipam', 'allocateAddress'), compensation: op('ipam', 'releaseAddress') },
    { name: 'onuActivation', action: op('onu', 'activate'), compensation: op('onu', 'deactivate') },
    { name: 'cpeConfiguration', action: op('cpe', 'configure'), compensation: op('cpe', 'reset') },
    { name: 'billingService', action: op('billing', 'addService'), compensation: op('billing', 'removeService') },
  ],
};

/** tenant-provisioning: 8 steps; activation has no undo. */
export const tenantProvisioning: SagaSpec = {
  machine: 'tenant-provisioning',
  prepare: async () => tenantInput(),
  steps: [
    { name: 'tenant', action: op('tenants', 'createTenant'), compensation: op('tenants', 'deleteTenant') },
    { name: 'database', action: op('tenants', 'createSchema'), compensation: op('tenants', 'dropSchema') },
    { name: 'adminUser', action: op('tenants', 'createAdminUser'), compensation: op('tenants', 'deleteUser') },
    { name: 'ingress', action: op('tenants', 'createIngress'), compensation: op('tenants', 'deleteIngress') },
    { name: 'plans', action: op('tenants', 'installDefaultPlans'), compensation: op('tenants', 'removePlans') },
    { name: 'billingAccount', action: op('billing', 'createAccount'), compensation: op('billing', 'closeAccount') },
    { name: 'notifications', action: op('tenants', 'enableNotifications'), compensation: op('tenants', 'disableNotifications') },
    { name: 'activation', action: op('tenants', 'setTenantStatus') },
  ],
};

/** service-activation of a suspended subscriber: 4 steps, the notice has no undo. */
export const serviceActivation: SagaSpec = {
  machine: 'service-activation',
  prepare: async (lab) => {
    const s = await provisionByHand(lab, { suspended: true });
    return { subscriberId: s.subscriberId, username: s.username, serviceId: s.serviceId, notifyEmail: 'grace@example.net' };
  },
  steps: [
    { name: 'subscriber', action: op('customers', 'setSubscriberStatus'), compensation: op('customers', 'setSubscriberStatus') },
    { name: 'radiusAccount', action: op('radius', 'setSuspended'), compensation: op('radius', 'setSuspended') },
    { name: 'billingService', action: op('billing', 'setServiceStatus'), compensation: op('billing', 'setServiceStatus') },
    { name: 'notice', action: op('messaging', 'sendEmail') },
  ],
  state: serviceState,
};

/** service-suspension of an active subscriber: 4 steps, the notice has no undo. */
export const serviceSuspension: SagaSpec = {
  machine: 'service-suspension',
  prepare: async (lab) => {
    const s = await provisionByHand(lab);
    return {
      subscriberId: s.subscriberId,
      username: s.username,
      serviceId: s.serviceId,
      reason: 'unpaid invoices',
      notifyEmail: 'grace@example.net',
    };
  },
  steps: [
    { name: 'radiusAccount', action: op('radius', 'setSuspended'), compensation: op('radius', 'setSuspended') },
    { name: 'billingService', action: op('billing', 'setServiceStatus'), compensation: op('billing', 'setServiceStatus') },
    { name: 'subscriber', action: op('customers', 'setSubscriberStatus'), compensation: op('customers', 'setSubscriberStatus') },
    { name: 'notice', action: op('messaging', 'sendEmail') },
  ],
  state: serviceState,
};

/**
 * subscriber-deprovisioning with an ONU, an IPAM address and a CPE: 5 steps.
 * The purge is the saga's pivot: never undone, never cancelled once started;
 * if it fails for good the saga waits in `running.purge_failed` for an operator.
 */
export const subscriberDeprovisioning: SagaSpec = {
  machine: 'subscriber-deprovisioning',
  prepare: async (lab) => {
    const s = await provisionByHand(lab);
    return {
      subscriberId: s.subscriberId,
      username: s.username,
      serviceId: s.serviceId,
      addressId: s.addressId,
      onu: { onuId: s.onuId, serialNumber: s.serialNumber, oltPort: s.oltPort },
      cpeDeviceId: s.cpeDeviceId,
    };
  },
  steps: [
    { name: 'subscriber', action: op('customers', 'setSubscriberStatus'), compensation: op('customers', 'setSubscriberStatus') },
    { name: 'radiusAccount', action: op('radius', 'setSuspended'), compensation: op('radius', 'setSuspended') },
    { name: 'billingService', action: op('billing', 'setServiceStatus'), compensation: op('billing', 'setServiceStatus') },
    { name: 'onu', action: op('onu', 'deactivate'), compensation: op('onu', 'activate') },
    // The purge's first call; failing it leaves everything the purge would remove in place.
    { name: 'purge', action: op('billing', 'removeService') },
  ],
  state: serviceState,
};

/** Every seed saga built with `defineSaga`. */
export const sagaSpecs: readonly SagaSpec[] = [
  subscriberProvisioning,
  tenantProvisioning,
  serviceActivation,
  serviceSuspension,
  subscriberDeprovisioning,
];

/** A fresh lab with the spec's input prepared, and the live records it holds before the workflow starts. */
export async function preparedLab(spec: SagaSpec) {
  const lab = createLab();
  const input = await spec.prepare(lab);
  const before = refs(await lab.liveRecords());
  const state = spec.state ? await spec.state(lab, input) : undefined;
  // Count only what the workflow calls.
  lab.calls.reset();
  return { lab, input, before, state };
}
