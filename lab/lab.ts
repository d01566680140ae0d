import type pg from 'pg';
import type { Clients } from '../actors/clients/index.ts';
import { BillingSystem, createBillingClient, type BillingOptions } from './billing-system.ts';
import { CallCounter } from './call-counter.ts';
import { CallGate } from './call-gate.ts';
import { CpeSystem, createCpeClient } from './cpe-system.ts';
import { createCustomerClient, CustomerSystem } from './customer-system.ts';
import { FaultInjector } from './faults.ts';
import { IdempotencyLedger } from './idempotency-ledger.ts';
import { IdSequence } from './ids.ts';
import { LabState } from './lab-state.ts';
import { createIpamClient, IpamSystem, type IpamPrefix } from './ipam-system.ts';
import type { LiveRecord, LiveRecordRef } from './live-record.ts';
import { createMessagingClient, MessagingSystem } from './messaging-system.ts';
import { createOnuClient, OnuSystem } from './onu-system.ts';
import { createPaymentsClient, PaymentsSystem } from './payments-system.ts';
import { PgLabStore } from './pg-lab-store.ts';
import { labPool } from './pg-pool.ts';
import { PgRadiusStore } from './pg-radius-store.ts';
import { MemoryRadiusStore } from './radius-store.ts';
import { createRadiusClient, RadiusSystem } from './radius-system.ts';
import { orphansAmong, type LabRecords } from './records.ts';
import { createTenantInfraClient, TenantInfraSystem } from './tenant-infra-system.ts';

/** Options of {@link createLab}; everything is optional. */
export interface LabOptions {
  /**
   * Postgres for every system's records and the idempotency ledger (schema `lab`: FreeRADIUS's
   * `radcheck` / `radreply`, `records`, `idempotency`); memory when omitted.
   */
  database?: pg.Pool | string;
  /** IPAM prefixes (default {@link DEFAULT_PREFIXES}). */
  prefixes?: readonly IpamPrefix[];
  billing?: BillingOptions;
  /** Billing accounts whose charges decline. */
  declinedAccounts?: readonly string[];
  /** Clock for timestamps on tasks and messages. */
  now?: () => Date;
}

/** The lab's systems, for assertions and set-up beyond the client interfaces. */
export interface LabSystems {
  customers: CustomerSystem;
  radius: RadiusSystem;
  ipam: IpamSystem;
  onu: OnuSystem;
  cpe: CpeSystem;
  billing: BillingSystem;
  payments: PaymentsSystem;
  messaging: MessagingSystem;
  tenants: TenantInfraSystem;
}

/** A lab of external systems: the {@link Clients}, their state, faults and call counts. */
export interface Lab {
  /** The client interfaces, served by the lab's systems. */
  readonly clients: Clients;
  readonly faults: FaultInjector;
  readonly calls: CallCounter;
  readonly systems: LabSystems;
  /** Everything the systems hold that stands for a side effect. */
  records(): Promise<LabRecords>;
  /** The same as a flat list of live records (messages excluded). */
  liveRecords(): Promise<LiveRecord[]>;
  /** Number of live records; 0 after a complete rollback. */
  liveRecordCount(): Promise<number>;
  /** Live records not named in `expected`: what a workflow left behind. */
  orphans(expected?: readonly LiveRecordRef[]): Promise<LiveRecord[]>;
  /** Empties every system, clears faults, call counts and recorded idempotency keys. */
  reset(): Promise<void>;
  /** Loads what the database holds (done by the first call otherwise); fails when it cannot be read. */
  ready(): Promise<void>;

  /** Closes what the lab opened (the Postgres pool it created from a connection string). */
  close(): Promise<void>;
}

/**
 * Creates a lab implementing every external-system client in process.
 *
 * @remarks With `database`, every system's records, the id sequences and the
 * idempotency ledger are in Postgres (schema `lab`), written in one
 * transaction per call (see {@link LabState}): a lab started again on the
 * same database, in this process or another, continues where the last one
 * stopped — ids go on, a repeated key answers its first result. One lab
 * process owns a database at a time. Without `database` all of it is in
 * memory. Faults, call counts and declined accounts are configuration, in
 * memory either way. Every mutating call is idempotent by its key (see
 * {@link IdempotencyLedger}).
 *
 * @example
 * ```ts
 * const lab = createLab({ declinedAccounts: ['acct_000002'] });
 * lab.faults.inject({ system: 'onu', operation: 'activate', mode: 'fail', times: 2 });
 * const runtime = createRuntime({ steps: subscriberSteps(lab.clients) });
 * expect(await lab.orphans()).toEqual([]);
 * ```
 */
export function createLab(options: LabOptions = {}): Lab {
  const db = options.database === undefined ? undefined : labPool(options.database);
  const state = new LabState(db && new PgLabStore(db.pool));
  const ids = new IdSequence(state);
  const calls = new CallCounter();
  const faults = new FaultInjector();
  const ledger = new IdempotencyLedger(state);
  const gate = new CallGate(calls, faults, ledger);
  const radiusStore = db ? new PgRadiusStore(db.pool) : new MemoryRadiusStore();
  const systems: LabSystems = {
    customers: new CustomerSystem(ids, state),
    radius: new RadiusSystem(radiusStore),
    ipam: new IpamSystem(ids, options.prefixes, state),
    onu: new OnuSystem(ids, state),
    cpe: new CpeSystem(ids, options.now, state),
    billing: new BillingSystem(ids, options.billing, state),
    payments: new PaymentsSystem(ids, options.declinedAccounts, state),
    messaging: new MessagingSystem(ids, options.now, state),
    tenants: new TenantInfraSystem(ids, state),
  };
  const clients: Clients = {
    customers: createCustomerClient(systems.customers, gate),
    radius: createRadiusClient(systems.radius, gate),
    ipam: createIpamClient(systems.ipam, gate),
    onu: createOnuClient(systems.onu, gate),
    cpe: createCpeClient(systems.cpe, gate),
    billing: createBillingClient(systems.billing, gate),
    payments: createPaymentsClient(systems.payments, gate),
    messaging: createMessagingClient(systems.messaging, gate),
    tenants: createTenantInfraClient(systems.tenants, gate),
  };

  const ready = () => ledger.ready('lab', 'load');
  const liveRecords = async (): Promise<LiveRecord[]> => (
    await ready(),
    [
      ...systems.customers.liveRecords(),
      ...(await systems.radius.liveRecords()),
      ...systems.ipam.liveRecords(),
      ...systems.onu.liveRecords(),
      ...systems.cpe.liveRecords(),
      ...systems.billing.liveRecords(),
      ...systems.payments.liveRecords(),
      ...systems.tenants.liveRecords(),
    ]
  );

  return {
    clients,
    faults,
    calls,
    systems,
    ready,
    records: async () => (
      await ready(),
      {
        customers: systems.customers.records(),
        radius: await systems.radius.records(),
        ipam: { ipAddresses: systems.ipam.records() },
        onu: { activations: systems.onu.records() },
        cpe: { configs: systems.cpe.records() },
        billing: systems.billing.records(),
        payments: systems.payments.records(),
        messaging: { messages: systems.messaging.records() },
        tenants: systems.tenants.records(),
      }
    ),
    liveRecords,
    liveRecordCount: async () => (await liveRecords()).length,
    orphans: async (expected) => orphansAmong(await liveRecords(), expected),
    reset: async () => {
      await systems.radius.reset();
      const { customers, ipam, onu, cpe, billing, payments, messaging, tenants } = systems;
      for (const system of [customers, ipam, onu, billing, payments, messaging, tenants]) system.reset();
      cpe.resetAll();
      faults.clear();
      calls.reset();
      ledger.clear();
      ids.reset();
      await state.reset();
    },
    close: async () => {
      await radiusStore.close();
      if (db?.owned) await db.pool.end();
    },
  };
}
