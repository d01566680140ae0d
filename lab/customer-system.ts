import type { CallOptions, Customer, CustomerClient, Subscriber } from '../actors/clients/index.ts';
import type { CallGate } from './call-gate.ts';
import { LabError } from './errors.ts';
import type { IdSequence } from './ids.ts';
import { LabState, type Table, type Tables } from './lab-state.ts';
import type { LiveRecord } from './live-record.ts';

/** The customer/subscriber records the lab's BSS holds. */
export interface CustomerRecords {
  customers: Customer[];
  /** Subscribers not deleted. */
  subscribers: Subscriber[];
}

/**
 * The operator's customer and subscriber store (BSS/CRM).
 *
 * @remarks Deleted subscribers stay as tombstones with status `deleted`, as a
 * BSS keeps them; their username becomes free again. A customer with
 * subscribers that are not deleted cannot be deleted (undo steps must run in
 * reverse order).
 */
export class CustomerSystem {
  private readonly customers: Table<Customer>;
  private readonly subscribers: Table<Subscriber>;

  constructor(
    private readonly ids: IdSequence,
    tables: Tables = new LabState(),
  ) {
    this.customers = tables.table('customers.customer');
    this.subscribers = tables.table('customers.subscriber');
  }

  /** Creates a customer. */
  createCustomer(req: { name: string; email: string; tenantId?: string }): Customer {
    if (!req.name?.trim()) throw LabError.invalid('customers', 'createCustomer', 'name must not be empty');
    if (!req.email?.includes('@')) throw LabError.invalid('customers', 'createCustomer', `"${req.email}" is not an email address`);
    const customer: Customer = { id: this.ids.next('cust'), name: req.name, email: req.email };
    if (req.tenantId !== undefined) customer.tenantId = req.tenantId;
    this.customers.set(customer.id, customer);
    return { ...customer };
  }

  /** Deletes a customer; one already gone is fine. */
  deleteCustomer(customerId: string): void {
    if (!this.customers.has(customerId)) return;
    const live = [...this.subscribers.values()].filter((s) => s.customerId === customerId && s.status !== 'deleted');
    if (live.length > 0) {
      throw LabError.conflict(
        'customers',
        'deleteCustomer',
        `customer ${customerId} still has subscribers ${live.map((s) => s.id).join(', ')}; delete them first`,
      );
    }
    this.customers.delete(customerId);
  }

  /** Creates a subscriber of an existing customer; the username must be free. */
  createSubscriber(req: { customerId: string; username: string; plan: string }): Subscriber {
    if (!this.customers.has(req.customerId)) throw LabError.notFound('customers', 'createSubscriber', 'customer', req.customerId);
    if (!req.username?.trim()) throw LabError.invalid('customers', 'createSubscriber', 'username must not be empty');
    const taken = [...this.subscribers.values()].find((s) => s.username === req.username && s.status !== 'deleted');
    if (taken) {
      throw LabError.conflict('customers', 'createSubscriber', `username ${req.username} belongs to subscriber ${taken.id}`);
    }
    const subscriber: Subscriber = {
      id: this.ids.next('sub'),
      customerId: req.customerId,
      username: req.username,
      plan: req.plan,
      status: 'active',
    };
    this.subscribers.set(subscriber.id, subscriber);
    return { ...subscriber };
  }

  /** Marks a subscriber deleted; one already deleted or unknown is fine. */
  deleteSubscriber(subscriberId: string): void {
    const subscriber = this.subscribers.get(subscriberId);
    if (subscriber) subscriber.status = 'deleted';
  }

  /** Activates or suspends a subscriber that is not deleted. */
  setSubscriberStatus(subscriberId: string, status: 'active' | 'suspended'): Subscriber {
    const subscriber = this.subscribers.get(subscriberId);
    if (!subscriber || subscriber.status === 'deleted') {
      throw LabError.notFound('customers', 'setSubscriberStatus', 'subscriber', subscriberId);
    }
    if (status !== 'active' && status !== 'suspended') {
      throw LabError.invalid('customers', 'setSubscriberStatus', `status must be active or suspended, not "${status}"`);
    }
    subscriber.status = status;
    return { ...subscriber };
  }

  /** A subscriber by id, deleted ones included. */
  subscriber(subscriberId: string): Subscriber | undefined {
    const s = this.subscribers.get(subscriberId);
    return s && { ...s };
  }

  /** Customers and subscribers that are not deleted. */
  records(): CustomerRecords {
    return {
      customers: [...this.customers.values()].map((c) => ({ ...c })),
      subscribers: [...this.subscribers.values()].filter((s) => s.status !== 'deleted').map((s) => ({ ...s })),
    };
  }

  /** Customers and subscribers as live records. */
  liveRecords(): LiveRecord[] {
    const { customers, subscribers } = this.records();
    return [
      ...customers.map((c) => ({ system: 'customers' as const, kind: 'customer', id: c.id })),
      ...subscribers.map((s) => ({ system: 'customers' as const, kind: 'subscriber', id: s.id })),
    ];
  }

  /** Forgets every record. */
  reset(): void {
    this.customers.clear();
    this.subscribers.clear();
  }
}

/** The {@link CustomerClient} of a {@link CustomerSystem}, through the lab's call gate. */
export function createCustomerClient(system: CustomerSystem, gate: CallGate): CustomerClient {
  const run = <T>(operation: keyof CustomerClient, o: CallOptions, apply: () => T) => gate.mutate('customers', operation, o, apply);
  return {
    createCustomer: (req, o) => run('createCustomer', o, () => system.createCustomer(req)),
    deleteCustomer: (id, o) => run('deleteCustomer', o, () => system.deleteCustomer(id)),
    createSubscriber: (req, o) => run('createSubscriber', o, () => system.createSubscriber(req)),
    deleteSubscriber: (id, o) => run('deleteSubscriber', o, () => system.deleteSubscriber(id)),
    setSubscriberStatus: (id, status, o) => run('setSubscriberStatus', o, () => system.setSubscriberStatus(id, status)),
  };
}
