import { describe, expect, it } from 'vitest';
import { Drive, done, fail } from './machine-testing.ts';
import { sagaStepStatuses } from '../sagas/saga-status.ts';
import { expectRollsBackAtEveryStep, replaySagaPaths, runSaga } from '../sagas/saga-testing.ts';
import { stepPolicyOf } from '../runtime/step.ts';
import {
  SubscriberProvisioningInputSchema,
  subscriberProvisioningMachine as machine,
  type SubscriberProvisioningInput,
} from './subscriber-provisioning.machine.ts';

const full: SubscriberProvisioningInput = {
  customer: { name: 'Ada Lovelace', email: 'ada@example.net' },
  subscriber: { username: 'ada', plan: 'fiber-500' },
  radius: { password: 's3cret-pass' },
  ipPrefixId: 7,
  onu: { serialNumber: 'ALCL0001', oltPort: 'olt1/1/1' },
  cpe: { deviceId: 'cpe-42' },
};
const minimal: SubscriberProvisioningInput = {
  customerId: 'cus_existing',
  subscriber: { username: 'bob', plan: 'fiber-100' },
  radius: { password: 's3cret-pass' },
  staticIp: '203.0.113.9',
  onu: { serialNumber: 'ALCL0002', oltPort: 'olt1/1/2' },
};
const outputs = {
  customer: { customerId: 'cus_1' },
  subscriber: { subscriberId: 'sub_1', username: 'ada' },
  radiusAccount: { username: 'ada' },
  ipAllocation: { addressId: 11, address: '198.51.100.11' },
  onuActivation: { onuId: 'onu_1' },
  cpeConfiguration: { deviceId: 'cpe-42', taskId: 'task_1' },
  billingService: { serviceId: 'svc_1' },
};

describe('subscriber-provisioning', () => {
  it('validates its input', () => {
    expect(SubscriberProvisioningInputSchema.safeParse(full).success).toBe(true);
    expect(SubscriberProvisioningInputSchema.safeParse(minimal).success).toBe(true);
    expect(SubscriberProvisioningInputSchema.safeParse({ ...full, customer: undefined }).success).toBe(false);
    expect(SubscriberProvisioningInputSchema.safeParse({ ...full, ipPrefixId: undefined }).success).toBe(false);
  });

  it('runs all 7 steps and returns every id created', () => {
    const d = runSaga(machine, full, outputs);
    expect(d.started.map((s) => [s.id, s.src])).toEqual([
      ['customer', 'createCustomer'],
      ['subscriber', 'createSubscriber'],
      ['radiusAccount', 'createRadiusAccount'],
      ['ipAllocation', 'allocateIpAddress'],
      ['onuActivation', 'activateOnu'],
      ['cpeConfiguration', 'configureCpe'],
      ['billingService', 'createBillingService'],
    ]);
    expect(d.started[1]!.input).toEqual({ customerId: 'cus_1', username: 'ada', plan: 'fiber-500' });
    expect(d.started[4]!.input).toEqual({ serialNumber: 'ALCL0001', oltPort: 'olt1/1/1', subscriberId: 'sub_1' });
    expect(d.snapshot.output).toEqual({
      outcome: 'completed',
      result: {
        customerId: 'cus_1',
        subscriberId: 'sub_1',
        username: 'ada',
        ipAddress: '198.51.100.11',
        onuId: 'onu_1',
        cpeDeviceId: 'cpe-42',
        serviceId: 'svc_1',
      },
    });
  });

  it('skips customer, IP allocation and CPE for a linked customer with a static IP and no CPE', () => {
    const d = runSaga(machine, minimal, outputs);
    expect(d.startedIds).toEqual(['subscriber', 'radiusAccount', 'onuActivation', 'billingService']);
    expect(d.snapshot.context.skipped).toEqual(['customer', 'ipAllocation', 'cpeConfiguration']);
    expect(d.started[0]!.input).toMatchObject({ customerId: 'cus_existing' });
    expect(d.started[1]!.input).toMatchObject({ framedIp: '203.0.113.9' });
    expect(d.snapshot.output).toMatchObject({ result: { customerId: 'cus_existing', ipAddress: '203.0.113.9', cpeDeviceId: null } });
  });

  it('never deletes a linked customer or releases a static IP on rollback', () => {
    const d = new Drive(machine, minimal);
    d.send(done('subscriber', outputs.subscriber)).send(done('radiusAccount', outputs.radiusAccount));
    d.send(done('onuActivation', outputs.onuActivation)).send(fail('billingService'));
    d.send(done('compensate.onuActivation')).send(done('compensate.radiusAccount')).send(done('compensate.subscriber'));
    expect(d.startedIds.slice(4)).toEqual(['compensate.onuActivation', 'compensate.radiusAccount', 'compensate.subscriber']);
    expect(d.started[4]).toMatchObject({ src: 'deactivateOnu', input: { onuId: 'onu_1' } });
    expect(d.snapshot.value).toBe('rolled_back');
    expect(sagaStepStatuses(machine, d.snapshot).map((s) => s.status)).toEqual([
      'skipped',
      'compensated',
      'compensated',
      'skipped',
      'compensated',
      'skipped',
      'failed',
    ]);
  });

  it('gives ONU activation up to 5 attempts', () => {
    expect(stepPolicyOf(machine.implementations.actors.activateOnu)).toEqual({ maxAttempts: 5, timeoutMs: 60_000 });
  });

  it('compensates every completed step in reverse when any step fails', () => {
    expect(expectRollsBackAtEveryStep(machine, full, outputs)).toBe(7);
    expect(expectRollsBackAtEveryStep(machine, minimal, outputs)).toBe(4);
  });

  it('replays its shortest paths through transition() and restores each reached state from JSON', () => {
    expect(replaySagaPaths(machine, minimal, outputs)).toBeGreaterThan(50);
    expect(replaySagaPaths(machine, full, outputs)).toBeGreaterThan(50);
  });
});
