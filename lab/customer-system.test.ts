import { describe, expect, it } from 'vitest';
import { createLab } from './lab.ts';

let n = 0;
const o = () => ({ idempotencyKey: `crm-${++n}` });

describe('customer and subscriber store', () => {
  it('creates customers and subscribers with predictable ids', async () => {
    const lab = createLab();
    const customer = await lab.clients.customers.createCustomer({ name: 'Ada', email: 'ada@example.net', tenantId: 'acme' }, o());
    const subscriber = await lab.clients.customers.createSubscriber({ customerId: customer.id, username: 'ada', plan: 'basic' }, o());
    expect(customer).toEqual({ id: 'cust_000001', name: 'Ada', email: 'ada@example.net', tenantId: 'acme' });
    expect(subscriber).toEqual({ id: 'sub_000001', customerId: 'cust_000001', username: 'ada', plan: 'basic', status: 'active' });
  });

  it('a subscriber needs an existing customer and a free username', async () => {
    const lab = createLab();
    await expect(
      lab.clients.customers.createSubscriber({ customerId: 'cust_nope', username: 'x', plan: 'basic' }, o()),
    ).rejects.toMatchObject({ code: 'not_found', retryable: false });
    const { id } = await lab.clients.customers.createCustomer({ name: 'Ada', email: 'ada@example.net' }, o());
    await lab.clients.customers.createSubscriber({ customerId: id, username: 'ada', plan: 'basic' }, o());
    await expect(lab.clients.customers.createSubscriber({ customerId: id, username: 'ada', plan: 'premium' }, o())).rejects.toMatchObject({
      code: 'conflict',
      status: 409,
    });
  });

  it('a deleted subscriber is a tombstone: gone from records, username free, status deleted', async () => {
    const lab = createLab();
    const { id: customerId } = await lab.clients.customers.createCustomer({ name: 'Ada', email: 'ada@example.net' }, o());
    const sub = await lab.clients.customers.createSubscriber({ customerId, username: 'ada', plan: 'basic' }, o());
    await lab.clients.customers.deleteSubscriber(sub.id, o());
    await lab.clients.customers.deleteSubscriber(sub.id, o());
    expect(lab.systems.customers.subscriber(sub.id)?.status).toBe('deleted');
    expect(lab.systems.customers.records().subscribers).toEqual([]);
    await expect(lab.clients.customers.setSubscriberStatus(sub.id, 'active', o())).rejects.toMatchObject({ status: 404 });
    await expect(lab.clients.customers.createSubscriber({ customerId, username: 'ada', plan: 'basic' }, o())).resolves.toBeDefined();
  });

  it('suspends and reactivates a subscriber', async () => {
    const lab = createLab();
    const { id: customerId } = await lab.clients.customers.createCustomer({ name: 'Ada', email: 'ada@example.net' }, o());
    const sub = await lab.clients.customers.createSubscriber({ customerId, username: 'ada', plan: 'basic' }, o());
    expect(await lab.clients.customers.setSubscriberStatus(sub.id, 'suspended', o())).toMatchObject({ status: 'suspended' });
    expect(await lab.clients.customers.setSubscriberStatus(sub.id, 'active', o())).toMatchObject({ status: 'active' });
  });

  it('a customer with live subscribers cannot be deleted; deleting it twice afterwards succeeds', async () => {
    const lab = createLab();
    const { id } = await lab.clients.customers.createCustomer({ name: 'Ada', email: 'ada@example.net' }, o());
    const sub = await lab.clients.customers.createSubscriber({ customerId: id, username: 'ada', plan: 'basic' }, o());
    await expect(lab.clients.customers.deleteCustomer(id, o())).rejects.toMatchObject({ code: 'conflict', retryable: false });
    await lab.clients.customers.deleteSubscriber(sub.id, o());
    await lab.clients.customers.deleteCustomer(id, o());
    await lab.clients.customers.deleteCustomer(id, o());
    expect(await lab.liveRecordCount()).toBe(0);
  });

  it('rejects an email without @', async () => {
    const lab = createLab();
    await expect(lab.clients.customers.createCustomer({ name: 'Ada', email: 'ada' }, o())).rejects.toMatchObject({
      code: 'invalid_request',
    });
  });
});
