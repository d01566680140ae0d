import { describe, expect, it } from 'vitest';
import { Drive, done, fail } from './machine-testing.ts';
import { expectRollsBackAtEveryStep, replaySagaPaths, runSaga } from '../sagas/saga-testing.ts';
import {
  SubscriberDeprovisioningInputSchema,
  subscriberDeprovisioningMachine as machine,
  type SubscriberDeprovisioningInput,
} from './subscriber-deprovisioning.machine.ts';

const input: SubscriberDeprovisioningInput = {
  subscriberId: 'sub_1',
  username: 'ada',
  serviceId: 'svc_1',
  addressId: 11,
  onu: { onuId: 'onu_1', serialNumber: 'ALCL0001', oltPort: 'olt1/1/1' },
  cpeDeviceId: 'cpe-42',
};
const outputs = {
  subscriber: { subscriberId: 'sub_1', status: 'suspended' },
  radiusAccount: { username: 'ada', suspended: true },
  billingService: { serviceId: 'svc_1', status: 'suspended' },
  onu: { onuId: 'onu_1' },
  purge: { removed: ['billingService', 'radiusAccount', 'ipAddress', 'cpeConfiguration', 'subscriber'], alreadyGone: [] },
};

describe('subscriber-deprovisioning', () => {
  it('validates its input', () => {
    expect(SubscriberDeprovisioningInputSchema.safeParse(input).success).toBe(true);
    expect(SubscriberDeprovisioningInputSchema.safeParse({ ...input, serviceId: '' }).success).toBe(false);
  });

  it('suspends everywhere, deactivates the ONU, then purges', () => {
    const d = runSaga(machine, input, outputs);
    expect(d.started.map((s) => s.src)).toEqual([
      'suspendSubscriber',
      'suspendRadiusAccount',
      'suspendBillingService',
      'deactivateOnu',
      'purgeSubscriber',
    ]);
    expect(d.started[4]!.input).toEqual({
      subscriberId: 'sub_1',
      username: 'ada',
      serviceId: 'svc_1',
      addressId: 11,
      cpeDeviceId: 'cpe-42',
    });
    expect(d.snapshot.output).toEqual({ outcome: 'completed', result: d.snapshot.context.results });
  });

  it('re-activates the ONU when a cancel arrives during its deactivation', () => {
    const d = new Drive(machine, input);
    for (const step of ['subscriber', 'radiusAccount', 'billingService'] as const) d.send(done(step, outputs[step]));
    d.send({ type: 'workflow.cancel', reason: 'customer stays' });
    d.send(done('onu', outputs.onu));
    expect(d.snapshot.value).toEqual({ compensating: 'onu' });
    expect(d.started.at(-1)).toEqual({
      id: 'compensate.onu',
      src: 'activateOnu',
      input: { serialNumber: 'ALCL0001', oltPort: 'olt1/1/1', subscriberId: 'sub_1' },
    });
  });

  it('never undoes around a failed purge: it waits for an operator to resume it, and refuses a cancel once the purge started', () => {
    const d = new Drive(machine, input);
    for (const step of ['subscriber', 'radiusAccount', 'billingService', 'onu'] as const) d.send(done(step, outputs[step]));
    expect(d.snapshot.value).toEqual({ running: 'purge' });
    expect(d.snapshot.can({ type: 'workflow.cancel' })).toBe(false);
    d.send(fail('purge'));
    expect(d.snapshot.value).toEqual({ running: 'purge_failed' });
    expect(d.snapshot.hasTag('failed')).toBe(true);
    expect(d.started.some((s) => s.id.startsWith('compensate.'))).toBe(false);
    d.send({ type: 'operator.retry' });
    expect(d.snapshot.value).toEqual({ running: 'purge' });
    expect(d.started.at(-1)).toMatchObject({ id: 'purge', src: 'purgeSubscriber' });
    d.send(done('purge', outputs.purge));
    expect(d.snapshot.output).toMatchObject({ outcome: 'completed' });
  });

  it('skips the ONU without one', () => {
    const d = runSaga(machine, { ...input, onu: undefined }, outputs);
    expect(d.snapshot.context.skipped).toEqual(['onu']);
  });

  it('compensates every completed step in reverse when any step fails', () => {
    expect(expectRollsBackAtEveryStep(machine, input, outputs)).toBe(5);
    expect(expectRollsBackAtEveryStep(machine, { ...input, onu: undefined }, outputs)).toBe(4);
  });

  it('replays its shortest paths through transition() and restores each reached state from JSON', () => {
    expect(replaySagaPaths(machine, input, outputs)).toBeGreaterThan(30);
  });
});
