import { describe, expect, it } from 'vitest';
import { CallCounter } from './call-counter.ts';
import { CallGate } from './call-gate.ts';
import { createCustomerClient, CustomerSystem } from './customer-system.ts';
import { FaultInjector } from './faults.ts';
import { IdempotencyLedger } from './idempotency-ledger.ts';
import { IdSequence } from './ids.ts';
import { LabState } from './lab-state.ts';
import { MemoryLabStore, type LedgerRow, type RecordWrite } from './lab-store.ts';

/** A store that records commits and fails the next one when told to. */
class FlakyStore extends MemoryLabStore {
  failNext = false;
  readonly commits: { writes: readonly RecordWrite[]; ledger: LedgerRow | undefined }[] = [];
  override async commit(writes: readonly RecordWrite[], ledger: LedgerRow | undefined): Promise<void> {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('connection terminated');
    }
    this.commits.push({ writes, ledger });
  }
}

function customersOn(store: FlakyStore) {
  const state = new LabState(store);
  const system = new CustomerSystem(new IdSequence(state), state);
  const client = createCustomerClient(system, new CallGate(new CallCounter(), new FaultInjector(), new IdempotencyLedger(state)));
  return { system, client };
}

describe('LabState: one store transaction per call', () => {
  it('writes the records a call changed, the id sequence and the result under its key, together', async () => {
    const store = new FlakyStore();
    const { client } = customersOn(store);
    const customer = await client.createCustomer({ name: 'Ada', email: 'ada@example.net' }, { idempotencyKey: 'k1' });
    expect(store.commits).toEqual([
      {
        writes: expect.arrayContaining([
          { table: 'lab.ids', id: 'cust', data: 1 },
          { table: 'customers.customer', id: customer.id, data: customer },
        ]),
        ledger: { scope: 'customers.createCustomer', key: 'k1', result: customer },
      },
    ]);
  });

  it('a record changed in place (a status set on the object) is written', async () => {
    const store = new FlakyStore();
    const { client } = customersOn(store);
    const { id: customerId } = await client.createCustomer({ name: 'Ada', email: 'ada@example.net' }, { idempotencyKey: 'k1' });
    const sub = await client.createSubscriber({ customerId, username: 'ada', plan: 'basic' }, { idempotencyKey: 'k2' });
    await client.deleteSubscriber(sub.id, { idempotencyKey: 'k3' });
    expect(store.commits.at(-1)!.writes).toEqual([{ table: 'customers.subscriber', id: sub.id, data: { ...sub, status: 'deleted' } }]);
  });

  it('a call whose write fails is a retryable 503 and leaves memory as it was: no record, no id used, no key', async () => {
    const store = new FlakyStore();
    const { system, client } = customersOn(store);
    store.failNext = true;
    await expect(client.createCustomer({ name: 'Ada', email: 'ada@example.net' }, { idempotencyKey: 'k1' })).rejects.toMatchObject({
      code: 'upstream_error',
      retryable: true,
      status: 503,
    });
    expect(system.records().customers).toEqual([]);
    await expect(
      client.createCustomer({ name: 'Ada', email: 'ada@example.net' }, { idempotencyKey: 'k1', lookupOnly: true }),
    ).rejects.toMatchObject({ code: 'unknown_idempotency_key' });
    const again = await client.createCustomer({ name: 'Ada', email: 'ada@example.net' }, { idempotencyKey: 'k1' });
    expect(again.id).toBe('cust_000001');
    expect(system.records().customers).toEqual([again]);
  });
});

describe('LabState: a write whose outcome is unknown', () => {
  it('the next call reads the store again: a commit that landed answers its key, and ids go on from the store', async () => {
    // The commit reaches the store, then the connection breaks: the caller sees an error.
    class LandsThenFails extends FlakyStore {
      landed: { records: { table: string; id: string; data: unknown }[]; ledger: LedgerRow[] } = { records: [], ledger: [] };
      override async load() {
        return structuredClone(this.landed);
      }
      override async commit(writes: readonly RecordWrite[], ledger: LedgerRow | undefined): Promise<void> {
        for (const w of writes) {
          this.landed.records = this.landed.records.filter((r) => r.table !== w.table || r.id !== w.id);
          if (w.data !== null) this.landed.records.push({ table: w.table, id: w.id, data: w.data });
        }
        if (ledger) this.landed.ledger.push(ledger);
        if (this.failNext) {
          this.failNext = false;
          throw new Error('connection terminated after COMMIT');
        }
      }
    }
    const store = new LandsThenFails();
    const { system, client } = customersOn(store);
    store.failNext = true;
    await expect(client.createCustomer({ name: 'Ada', email: 'ada@example.net' }, { idempotencyKey: 'k1' })).rejects.toMatchObject({
      code: 'upstream_error',
    });
    // The repeat differs: only the recorded first result can answer "Ada".
    const again = await client.createCustomer({ name: 'Ada again', email: 'ada@example.net' }, { idempotencyKey: 'k1' });
    expect(again).toMatchObject({ id: 'cust_000001', name: 'Ada' });
    const next = await client.createCustomer({ name: 'Bo', email: 'bo@example.net' }, { idempotencyKey: 'k2' });
    expect(next.id).toBe('cust_000002');
    expect(system.records().customers.map((c) => c.id)).toEqual(['cust_000001', 'cust_000002']);
  });
});
