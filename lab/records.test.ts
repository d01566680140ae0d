import { describe, expect, it } from 'vitest';
import { ExternalSystemError, type Clients } from '../actors/clients/index.ts';
import { createLab } from './lab.ts';
import { countBySystem } from './records.ts';

/** The seven provisioning steps of the subscriber workflow, with their undo steps. */
async function provision(c: Clients, run: string) {
  const k = (step: string) => ({ idempotencyKey: `${run}:${step}` });
  const undo: (() => Promise<unknown>)[] = [];
  const ids: Record<string, string> = {};
  try {
    const customer = await c.customers.createCustomer({ name: 'Ada', email: 'ada@example.net' }, k('customer'));
    undo.push(() => c.customers.deleteCustomer(customer.id, k('customer.undo')));
    const sub = await c.customers.createSubscriber({ customerId: customer.id, username: 'ada', plan: 'basic' }, k('subscriber'));
    undo.push(() => c.customers.deleteSubscriber(sub.id, k('subscriber.undo')));
    const ip = await c.ipam.allocateAddress({ prefixId: 1, description: sub.id }, k('ip'));
    undo.push(() => c.ipam.releaseAddress(ip.id, k('ip.undo')));
    await c.radius.createAccount({ username: 'ada', password: 'pw', framedIp: ip.address, rateLimit: '10M/50M' }, k('radius'));
    undo.push(() => c.radius.deleteAccount('ada', k('radius.undo')));
    const onu = await c.onu.activate({ serialNumber: 'ALCLf0e1d2c3', oltPort: 'olt1/1/1', subscriberId: sub.id }, k('onu'));
    undo.push(() => c.onu.deactivate(onu.onuId, k('onu.undo')));
    await c.cpe.configure({ deviceId: 'cpe-ada', parameterValues: [['Device.WiFi.SSID.1.SSID', 'ada']] }, k('cpe'));
    undo.push(() => c.cpe.reset('cpe-ada', k('cpe.undo')));
    const svc = await c.billing.addService({ customerId: customer.id, subscriberId: sub.id, plan: 'basic' }, k('billing'));
    Object.assign(ids, { customer: customer.id, subscriber: sub.id, ip: String(ip.id), onu: onu.onuId, service: svc.serviceId });
    return { ok: true as const, ids };
  } catch (error) {
    for (const step of undo.reverse()) await step();
    return { ok: false as const, error };
  }
}

describe('records and orphans', () => {
  it('a successful provisioning leaves exactly its own records, no orphans', async () => {
    const lab = createLab();
    const result = await provision(lab.clients, 'run-1');
    if (!result.ok) throw result.error;
    const { ids } = result;
    expect(countBySystem(await lab.liveRecords())).toEqual({ customers: 2, radius: 1, ipam: 1, onu: 1, cpe: 1, billing: 1 });
    expect(
      await lab.orphans([
        { system: 'customers', kind: 'customer', id: ids.customer! },
        { system: 'customers', kind: 'subscriber', id: ids.subscriber! },
        { system: 'radius', id: 'ada' },
        { system: 'ipam', id: ids.ip! },
        { system: 'onu', id: ids.onu! },
        { system: 'cpe', id: 'cpe-ada' },
        { system: 'billing', kind: 'service', id: ids.service! },
      ]),
    ).toEqual([]);
    const records = await lab.records();
    expect(records.radius.radreply.find((r) => r.attribute === 'Framed-IP-Address')?.value).toBe('10.0.0.1');
  });

  it('a failed step rolled back leaves nothing behind', async () => {
    const lab = createLab();
    lab.faults.inject({ system: 'billing', operation: 'addService', mode: 'fail', retryable: false });
    const result = await provision(lab.clients, 'run-2');
    expect(result.ok).toBe(false);
    expect(result.ok === false && result.error).toBeInstanceOf(ExternalSystemError);
    expect(await lab.orphans()).toEqual([]);
    expect(await lab.liveRecordCount()).toBe(0);
  });

  it('failAfterApply on the last step without retry leaves one orphan: the lab shows it', async () => {
    const lab = createLab();
    lab.faults.inject({ system: 'billing', operation: 'addService', mode: 'failAfterApply', times: 1 });
    const result = await provision(lab.clients, 'run-3');
    expect(result.ok).toBe(false);
    // The service was created but its step "failed", so no undo step knows about it.
    expect(await lab.orphans()).toEqual([{ system: 'billing', kind: 'service', id: 'svc_000001' }]);
  });

  it('running the rollback twice is safe', async () => {
    const lab = createLab();
    lab.faults.inject({ system: 'billing', mode: 'fail' });
    await provision(lab.clients, 'run-4');
    lab.faults.clear();
    // A second run with the same keys replays what the first recorded, then undoes again.
    lab.faults.inject({ system: 'billing', mode: 'fail' });
    await provision(lab.clients, 'run-4');
    expect(await lab.liveRecordCount()).toBe(0);
    expect(lab.systems.ipam.records()).toEqual([]);
  });

  it('reset empties every system', async () => {
    const lab = createLab();
    await provision(lab.clients, 'run-5');
    await lab.clients.messaging.sendSms({ to: '+4915112345678', text: 'hi' }, { idempotencyKey: 'sms' });
    lab.faults.inject({ system: 'onu', mode: 'fail' });
    await lab.reset();
    expect(await lab.liveRecordCount()).toBe(0);
    expect((await lab.records()).messaging.messages).toEqual([]);
    expect(lab.faults.list()).toEqual([]);
    // Keys recorded before the reset are forgotten: the same key creates again.
    const again = await provision(lab.clients, 'run-5');
    expect(again.ok && again.ids.customer).toBe('cust_000001');
  });
});
