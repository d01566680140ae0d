import { describe, expect, it } from 'vitest';
import { Drive, done, fail } from './machine-testing.ts';
import { expectRollsBackAtEveryStep, replaySagaPaths, runSaga } from '../sagas/saga-testing.ts';
import { ServiceActivationInputSchema, serviceActivationMachine } from './service-activation.machine.ts';

const ids = { subscriberId: 'sub_1', username: 'ada', serviceId: 'svc_1' };
const outputs = {
  subscriber: { subscriberId: 'sub_1', status: 'active' },
  radiusAccount: { username: 'ada', suspended: false },
  billingService: { serviceId: 'svc_1', status: 'active' },
  notice: { messageId: 'msg_1' },
};

describe('service-activation', () => {
  const input = ServiceActivationInputSchema.parse({ ...ids, notifyEmail: 'ada@example.net' });

  it('activates CRM, RADIUS, billing, then tells the customer', () => {
    const d = runSaga(serviceActivationMachine, input, outputs);
    expect(d.started.map((s) => s.src)).toEqual(['activateSubscriber', 'resumeRadiusAccount', 'resumeBillingService', 'sendServiceNotice']);
    expect(d.started[3]!.input).toEqual({ to: 'ada@example.net', template: 'service-activated', data: { username: 'ada' } });
  });

  it('suspends again in reverse when billing fails', () => {
    const d = new Drive(serviceActivationMachine, input);
    d.send(done('subscriber', outputs.subscriber)).send(done('radiusAccount', outputs.radiusAccount)).send(fail('billingService'));
    d.send(done('compensate.radiusAccount')).send(done('compensate.subscriber'));
    expect(d.started.slice(3).map((s) => s.src)).toEqual(['suspendRadiusAccount', 'suspendSubscriber']);
    expect(d.snapshot.value).toBe('rolled_back');
  });

  it('compensates every completed step in reverse and replays its shortest paths', () => {
    expect(expectRollsBackAtEveryStep(serviceActivationMachine, input, outputs)).toBe(4);
    expect(expectRollsBackAtEveryStep(serviceActivationMachine, { ...ids }, outputs)).toBe(3);
    expect(replaySagaPaths(serviceActivationMachine, input, outputs)).toBeGreaterThan(20);
  });
});
