import { describe, expect, it } from 'vitest';
import { ExternalSystemError } from '../actors/clients/index.ts';
import { createLab } from './lab.ts';

const activation = { serialNumber: 'ALCLf0e1d2c3', oltPort: 'olt1/1/1', subscriberId: 'sub_000001' };

describe('fault injection', () => {
  it('fails N times with a retryable ExternalSystemError, then lets calls through', async () => {
    const lab = createLab();
    const fault = lab.faults.inject({ system: 'onu', operation: 'activate', mode: 'fail', times: 2 });
    const o = { idempotencyKey: 'k1' };
    for (let i = 0; i < 2; i++) {
      const error = await lab.clients.onu.activate(activation, o).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ExternalSystemError);
      expect(error).toMatchObject({ system: 'onu', operation: 'activate', retryable: true, status: 503, code: 'injected_fault' });
      expect(lab.systems.onu.records()).toEqual([]);
    }
    await expect(lab.clients.onu.activate(activation, o)).resolves.toEqual({ onuId: 'onu_000001' });
    expect(lab.calls.count('onu', 'activate')).toBe(3);
    expect(lab.faults.list()).toEqual([expect.objectContaining({ id: fault.id, hits: 2, remaining: 0 })]);
  });

  it('fails always until cleared, and only the named operation', async () => {
    const lab = createLab();
    lab.faults.inject({ system: 'onu', operation: 'activate', mode: 'fail' });
    for (let i = 0; i < 5; i++)
      await expect(lab.clients.onu.activate(activation, { idempotencyKey: `k${i}` })).rejects.toThrow(/unavailable/);
    await expect(lab.clients.onu.deactivate('onu_x', { idempotencyKey: 'd' })).resolves.toBeUndefined();
    expect(lab.faults.clear({ system: 'onu', operation: 'activate' })).toBe(1);
    await expect(lab.clients.onu.activate(activation, { idempotencyKey: 'k9' })).resolves.toMatchObject({ onuId: expect.any(String) });
    expect(lab.faults.list()).toEqual([]);
  });

  it('without an operation, fails every operation of the system', async () => {
    const lab = createLab();
    lab.faults.inject({ system: 'radius', mode: 'fail', retryable: false, status: 400, message: 'bad gateway config' });
    const error = await lab.clients.radius.deleteAccount('ada', { idempotencyKey: 'k' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ retryable: false, status: 400, message: 'radius.deleteAccount: bad gateway config' });
    await expect(lab.clients.radius.setSuspended('ada', true, { idempotencyKey: 'k2' })).rejects.toMatchObject({ code: 'injected_fault' });
    await expect(lab.clients.ipam.allocateAddress({ prefixId: 1, description: '' }, { idempotencyKey: 'k3' })).resolves.toBeDefined();
  });

  it('adds latency', async () => {
    const lab = createLab();
    lab.faults.inject({ system: 'cpe', operation: 'configure', mode: 'latency', latencyMs: 80, times: 1 });
    const started = performance.now();
    await lab.clients.cpe.configure({ deviceId: 'dev', parameterValues: [['a', 1]] }, { idempotencyKey: 'k' });
    expect(performance.now() - started).toBeGreaterThanOrEqual(75);
    const second = performance.now();
    await lab.clients.cpe.configure({ deviceId: 'dev', parameterValues: [['a', 1]] }, { idempotencyKey: 'k2' });
    expect(performance.now() - second).toBeLessThan(50);
  });

  it('latency ends when the caller aborts, and nothing is applied', async () => {
    const lab = createLab();
    lab.faults.inject({ system: 'cpe', mode: 'latency', latencyMs: 10_000 });
    const started = performance.now();
    const call = lab.clients.cpe.configure(
      { deviceId: 'dev', parameterValues: [['a', 1]] },
      { idempotencyKey: 'k', signal: AbortSignal.timeout(30) },
    );
    await expect(call).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(lab.systems.cpe.tasks()).toEqual([]);
  });

  it('a call with an aborted signal does nothing', async () => {
    const lab = createLab();
    const controller = new AbortController();
    controller.abort();
    await expect(
      lab.clients.payments.charge({ accountId: 'a', amountCents: 1, currency: 'EUR' }, { idempotencyKey: 'k', signal: controller.signal }),
    ).rejects.toMatchObject({ name: 'AbortError' });
    expect(lab.systems.payments.allCharges()).toEqual([]);
  });

  it('failAfterApply records the effect, fails the caller, and the retry with the key returns it once', async () => {
    const lab = createLab();
    lab.faults.inject({ system: 'payments', operation: 'charge', mode: 'failAfterApply', times: 1 });
    const o = { idempotencyKey: 'charge-inv-1' };
    const req = { accountId: 'acct_1', amountCents: 4900, currency: 'EUR' };
    await expect(lab.clients.payments.charge(req, o)).rejects.toMatchObject({ retryable: true, code: 'injected_fault' });
    expect(lab.systems.payments.allCharges()).toHaveLength(1);
    const retried = await lab.clients.payments.charge(req, o);
    expect(retried).toEqual({ paymentId: 'ch_000001', status: 'succeeded' });
    expect(lab.systems.payments.allCharges()).toHaveLength(1);
    expect(lab.calls.count('payments', 'charge')).toBe(2);
  });

  it('failAfterApply on an IPAM allocation: the retry gets the same address, one ip-address object', async () => {
    const lab = createLab();
    lab.faults.inject({ system: 'ipam', operation: 'allocateAddress', mode: 'failAfterApply', times: 1 });
    const o = { idempotencyKey: 'alloc-1' };
    await expect(lab.clients.ipam.allocateAddress({ prefixId: 1, description: 'ada' }, o)).rejects.toThrow(/response was lost/);
    const ip = await lab.clients.ipam.allocateAddress({ prefixId: 1, description: 'ada' }, o);
    expect(ip).toMatchObject({ id: 1, address: '10.0.0.1/24' });
    expect(await lab.liveRecords()).toEqual([{ system: 'ipam', kind: 'ip-address', id: '1' }]);
  });

  it('a fail fault during a retry does not create a record either', async () => {
    const lab = createLab();
    lab.faults.inject({ system: 'messaging', mode: 'failAfterApply', times: 1 });
    lab.faults.inject({ system: 'messaging', mode: 'fail', times: 1 });
    const o = { idempotencyKey: 'welcome-1' };
    await expect(lab.clients.messaging.sendEmail({ to: 'a@example.net', template: 'welcome' }, o)).rejects.toThrow(/response was lost/);
    await expect(lab.clients.messaging.sendEmail({ to: 'a@example.net', template: 'welcome' }, o)).rejects.toThrow(/unavailable/);
    await lab.clients.messaging.sendEmail({ to: 'a@example.net', template: 'welcome' }, o);
    expect(lab.systems.messaging.records()).toHaveLength(1);
  });

  it('a failure before applying records nothing: the retry with the key applies', async () => {
    const lab = createLab();
    lab.faults.inject({ system: 'customers', operation: 'createCustomer', mode: 'fail', times: 1 });
    const o = { idempotencyKey: 'c1' };
    await expect(lab.clients.customers.createCustomer({ name: 'Ada', email: 'ada@example.net' }, o)).rejects.toThrow();
    expect(lab.systems.customers.records().customers).toEqual([]);
    await lab.clients.customers.createCustomer({ name: 'Ada', email: 'ada@example.net' }, o);
    expect(lab.systems.customers.records().customers).toHaveLength(1);
  });

  it('rejects faults that could never fire', () => {
    const lab = createLab();
    expect(() => lab.faults.inject({ system: 'onu', operation: 'activ8' as 'activate', mode: 'fail' })).toThrow(/no operation "activ8"/);
    expect(() => lab.faults.inject({ system: 'voltha' as 'onu', mode: 'fail' })).toThrow(/unknown system/);
    expect(() => lab.faults.inject({ system: 'onu', mode: 'latency' })).toThrow(/latencyMs/);
    expect(() => lab.faults.inject({ system: 'onu', mode: 'fail', times: 0 })).toThrow(/positive integer/);
  });

  it('lists and clears faults by id or all at once', () => {
    const lab = createLab();
    const a = lab.faults.inject({ system: 'onu', mode: 'fail' });
    lab.faults.inject({ system: 'cpe', mode: 'latency', latencyMs: 5 });
    expect(lab.faults.list().map((f) => f.system)).toEqual(['onu', 'cpe']);
    expect(lab.faults.clear({ id: a.id })).toBe(1);
    expect(lab.faults.list().map((f) => f.system)).toEqual(['cpe']);
    expect(lab.faults.clear()).toBe(1);
    expect(lab.faults.list()).toEqual([]);
  });

  it('counts every call, failed ones included, per system and operation', async () => {
    const lab = createLab();
    lab.faults.inject({ system: 'billing', operation: 'listBillableAccounts', mode: 'fail', times: 1 });
    await expect(lab.clients.billing.listBillableAccounts({ period: '2025-10' })).rejects.toThrow();
    await lab.clients.billing.listBillableAccounts({ period: '2025-10' });
    await lab.clients.billing.createAccount({ customerId: 'c', ownerName: 'o' }, { idempotencyKey: 'a' });
    expect(lab.calls.count('billing', 'listBillableAccounts')).toBe(2);
    expect(lab.calls.count('billing')).toBe(3);
    expect(lab.calls.all()).toEqual({ 'billing.createAccount': 1, 'billing.listBillableAccounts': 2 });
    await lab.reset();
    expect(lab.calls.all()).toEqual({});
  });
});
