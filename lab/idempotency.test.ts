import { describe, expect, it } from 'vitest';
import type { Clients } from '../actors/clients/index.ts';
import { createLab } from './lab.ts';
import { inventory, key, operationCases as cases } from './operation-cases.fixture.ts';

describe('every mutating operation is idempotent by key', () => {
  it.each(cases)('$name: the same key twice gives one effect and the same result', async ({ name, setup, createsPerKey }) => {
    const lab = createLab();
    const call = await setup(lab.clients);
    const o = key();
    const first = await call(o);
    const after = await inventory(lab);
    const second = await call(o);
    expect(second).toEqual(first);
    expect(await inventory(lab)).toBe(after);
    const [system, operation] = name.split('.') as [keyof Clients, string];
    expect(lab.calls.count(system, operation as never)).toBeGreaterThanOrEqual(2);
    if (createsPerKey) {
      // Another key is another request: it does create, so the check above could fail.
      await call(key());
      expect(await inventory(lab)).not.toBe(after);
    }
  });

  it.each(cases)('$name: a lookup by key answers the recorded result and applies nothing; an unknown key is a 404', async ({ setup }) => {
    const lab = createLab();
    const call = await setup(lab.clients);
    const o = key();
    const before = await inventory(lab);
    await expect(call({ ...o, lookupOnly: true })).rejects.toMatchObject({
      code: 'unknown_idempotency_key',
      status: 404,
      retryable: false,
    });
    expect(await inventory(lab)).toBe(before);
    const first = await call(o);
    const after = await inventory(lab);
    expect(await call({ ...o, lookupOnly: true })).toEqual(first);
    expect(await inventory(lab)).toBe(after);
  });

  it('a lookup by key finds a call whose response was lost, and is not disturbed by the fault', async () => {
    const lab = createLab();
    lab.faults.inject({ system: 'customers', operation: 'createCustomer', mode: 'failAfterApply' });
    const o = key();
    await expect(lab.clients.customers.createCustomer({ name: 'Ada', email: 'ada@example.net' }, o)).rejects.toMatchObject({
      code: 'injected_fault',
    });
    const found = await lab.clients.customers.createCustomer({ name: 'Ada', email: 'ada@example.net' }, { ...o, lookupOnly: true });
    expect(lab.systems.customers.records().customers).toEqual([found]);
  });

  it('covers every mutating operation of every client', async () => {
    const { LAB_OPERATIONS } = await import('./operations.ts');
    const all = Object.entries(LAB_OPERATIONS).flatMap(([s, ops]) => ops.map((op) => `${s}.${op}`));
    expect(cases.map((c) => c.name).sort()).toEqual(all.filter((op) => op !== 'billing.listBillableAccounts').sort());
  });

  it('rejects a mutating call without an idempotency key, not retryable', async () => {
    const lab = createLab();
    await expect(lab.clients.onu.deactivate('onu_1', { idempotencyKey: '' })).rejects.toMatchObject({
      code: 'missing_idempotency_key',
      retryable: false,
    });
    expect(lab.calls.count('onu', 'deactivate')).toBe(1);
  });

  it('runs concurrent calls with one key once', async () => {
    const lab = createLab();
    const o = key();
    const results = await Promise.all([1, 2, 3].map(() => lab.clients.ipam.allocateAddress({ prefixId: 1, description: 'x' }, o)));
    expect(new Set(results.map((r) => r.id)).size).toBe(1);
    expect(lab.systems.ipam.records()).toHaveLength(1);
  });

  it('keys are scoped per operation: one key on two operations gives two effects', async () => {
    const lab = createLab();
    const o = key();
    await lab.clients.messaging.sendEmail({ to: 'a@example.net', template: 't' }, o);
    await lab.clients.messaging.sendSms({ to: '+4915112345678', text: 't' }, o);
    expect(lab.systems.messaging.records()).toHaveLength(2);
  });
});
