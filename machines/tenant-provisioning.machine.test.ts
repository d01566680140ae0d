import { describe, expect, it } from 'vitest';
import { Drive, done, fail } from './machine-testing.ts';
import { expectRollsBackAtEveryStep, replaySagaPaths, runSaga } from '../sagas/saga-testing.ts';
import {
  TenantProvisioningInputSchema,
  tenantProvisioningMachine as machine,
  type TenantProvisioningInput,
} from './tenant-provisioning.machine.ts';

const input: TenantProvisioningInput = {
  tenantId: 'acme',
  name: 'Acme Fiber',
  plan: 'pro',
  adminEmail: 'ops@acme.example',
  hostname: 'acme.statekeeper.example',
};
const outputs = {
  tenant: { tenantId: 'acme' },
  database: { schema: 'tenant_acme' },
  adminUser: { userId: 'usr_1' },
  ingress: { ingressId: 'ing_1', hostname: 'acme.statekeeper.example' },
  plans: { planIds: ['basic', 'pro'] },
  billingAccount: { accountId: 'acc_1' },
  notifications: { channelId: 'ch_1' },
  activation: { tenantId: 'acme', status: 'active' },
};

describe('tenant-provisioning', () => {
  it('validates its input', () => {
    expect(TenantProvisioningInputSchema.safeParse(input).success).toBe(true);
    expect(TenantProvisioningInputSchema.safeParse({ ...input, tenantId: 'Acme Corp' }).success).toBe(false);
  });

  it('runs its 8 steps in order and returns the created resources', () => {
    const d = runSaga(machine, input, outputs);
    expect(d.startedIds).toEqual(['tenant', 'database', 'adminUser', 'ingress', 'plans', 'billingAccount', 'notifications', 'activation']);
    expect(d.started.map((s) => s.src)).toEqual([
      'createTenantRecord',
      'createTenantSchema',
      'createTenantAdmin',
      'createTenantIngress',
      'installDefaultPlans',
      'createTenantBillingAccount',
      'enableTenantNotifications',
      'activateTenant',
    ]);
    expect(d.started[3]!.input).toEqual({ tenantId: 'acme', hostname: 'acme.statekeeper.example' });
    expect(d.snapshot.output).toEqual({
      outcome: 'completed',
      result: {
        tenantId: 'acme',
        schema: 'tenant_acme',
        adminUserId: 'usr_1',
        hostname: 'acme.statekeeper.example',
        planIds: ['basic', 'pro'],
        billingAccountId: 'acc_1',
        notificationChannelId: 'ch_1',
      },
    });
  });

  it('undoes with each step recorded result (the compensation data)', () => {
    const d = new Drive(machine, input);
    d.send(done('tenant', outputs.tenant)).send(done('database', outputs.database)).send(done('adminUser', outputs.adminUser));
    d.send(done('ingress', outputs.ingress)).send(done('plans', outputs.plans)).send(fail('billingAccount', 'billing API 503'));
    for (const step of ['plans', 'ingress', 'adminUser', 'database', 'tenant']) d.send(done(`compensate.${step}`));
    expect(d.started.slice(6).map((s) => [s.src, s.input])).toEqual([
      ['removeTenantPlans', { planIds: ['basic', 'pro'] }],
      ['deleteTenantIngress', { ingressId: 'ing_1' }],
      ['deleteTenantAdmin', { userId: 'usr_1' }],
      ['dropTenantSchema', { schema: 'tenant_acme' }],
      ['deleteTenantRecord', { tenantId: 'acme' }],
    ]);
    expect(d.snapshot.output).toMatchObject({
      outcome: 'rolled_back',
      failure: { step: 'billingAccount', error: { message: 'billing API 503' } },
    });
  });

  it('deletes everything when cancelled during activation', () => {
    const d = new Drive(machine, input);
    for (const step of ['tenant', 'database', 'adminUser', 'ingress', 'plans', 'billingAccount', 'notifications']) {
      d.send(done(step, outputs[step as keyof typeof outputs]));
    }
    d.send({ type: 'workflow.cancel', reason: 'duplicate order' }).send(done('activation', outputs.activation));
    expect(d.snapshot.value).toEqual({ compensating: 'notifications' });
  });

  it('compensates every completed step in reverse when any step fails', () => {
    expect(expectRollsBackAtEveryStep(machine, input, outputs)).toBe(8);
  });

  it('replays its shortest paths through transition() and restores each reached state from JSON', () => {
    expect(replaySagaPaths(machine, input, outputs)).toBeGreaterThan(100);
  });
});
