import { describe, expect, it } from 'vitest';
import { Drive, done, fail } from './machine-testing.ts';
import { expectRollsBackAtEveryStep, replaySagaPaths, runSaga } from '../sagas/saga-testing.ts';
import { ServiceSuspensionInputSchema, serviceSuspensionMachine } from './service-suspension.machine.ts';

const ids = { subscriberId: 'sub_1', username: 'ada', serviceId: 'svc_1' };
const outputs = {
  subscriber: { subscriberId: 'sub_1', status: 'active' },
  radiusAccount: { username: 'ada', suspended: false },
  billingService: { serviceId: 'svc_1', status: 'active' },
  notice: { messageId: 'msg_1' },
};

describe('service-suspension', () => {
  const input = ServiceSuspensionInputSchema.parse({ ...ids, notifyEmail: 'ada@example.net' });

  it('defaults the reason and cuts access before billing', () => {
    expect(input.reason).toBe('unpaid invoices');
    const d = runSaga(serviceSuspensionMachine, input, outputs);
    expect(d.started.map((s) => s.src)).toEqual([
      'suspendRadiusAccount',
      'suspendBillingService',
      'suspendSubscriber',
      'sendServiceNotice',
    ]);
    expect(d.started[3]!.input).toMatchObject({ template: 'service-suspended', data: { reason: 'unpaid invoices' } });
  });

  it('resumes billing, then access, when the CRM update fails', () => {
    const d = new Drive(serviceSuspensionMachine, input);
    d.send(done('radiusAccount', outputs.radiusAccount)).send(done('billingService', outputs.billingService)).send(fail('subscriber'));
    d.send(done('compensate.billingService')).send(done('compensate.radiusAccount'));
    expect(d.started.slice(3).map((s) => s.src)).toEqual(['resumeBillingService', 'resumeRadiusAccount']);
    expect(d.snapshot.output).toMatchObject({ outcome: 'rolled_back', failure: { step: 'subscriber' } });
  });

  it('compensates every completed step in reverse and replays its shortest paths', () => {
    expect(expectRollsBackAtEveryStep(serviceSuspensionMachine, input, outputs)).toBe(4);
    expect(replaySagaPaths(serviceSuspensionMachine, input, outputs)).toBeGreaterThan(20);
  });
});
