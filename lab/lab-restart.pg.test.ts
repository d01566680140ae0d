import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clients } from '../actors/clients/index.ts';
import { createTestDatabase, type TestDatabase } from '../test/support/database.ts';
import { createHttpClients } from './http/http-clients.ts';
import { createHttpLabControl } from './http/http-lab-control.ts';
import { createLab, type Lab } from './lab.ts';
import { inventory, key, operationCases as cases } from './operation-cases.fixture.ts';
import { LAB_OPERATIONS } from './operations.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

async function withLab<T>(work: (lab: Lab) => Promise<T>): Promise<T> {
  const lab = createLab({ database: db.url });
  try {
    return await work(lab);
  } finally {
    await lab.close();
  }
}

describe('the lab on Postgres outlives its process', () => {
  it.each(cases)('$name: records and the key survive a new lab on the database; the key answers its first result', async ({ setup }) => {
    await withLab((lab) => lab.reset());
    const o = key();
    const clients = switchableClients();
    const { call, first, before } = await withLab(async (lab) => {
      clients.use(lab);
      const call = await setup(clients.clients);
      return { call, first: await call(o), before: await inventory(lab) };
    });
    await withLab(async (lab) => {
      clients.use(lab);
      expect(await inventory(lab)).toBe(before);
      expect(await call({ ...o, lookupOnly: true })).toEqual(first);
      expect(await call(o)).toEqual(first);
      expect(await inventory(lab)).toBe(before);
    });
  });

  it('ids continue after a restart: a new customer is not cust_000001 again, addresses are not handed out twice', async () => {
    await withLab((lab) => lab.reset());
    const first = await withLab(async (lab) => ({
      customer: await lab.clients.customers.createCustomer({ name: 'Ada', email: 'ada@example.net' }, key()),
      ip: await lab.clients.ipam.allocateAddress({ prefixId: 1, description: 'ada' }, key()),
      task: await lab.clients.cpe.configure({ deviceId: 'dev-1', parameterValues: [['a', 1]] }, key()),
    }));
    await withLab(async (lab) => {
      const customer = await lab.clients.customers.createCustomer({ name: 'Bo', email: 'bo@example.net' }, key());
      const ip = await lab.clients.ipam.allocateAddress({ prefixId: 1, description: 'bo' }, key());
      const task = await lab.clients.cpe.configure({ deviceId: 'dev-2', parameterValues: [['a', 1]] }, key());
      expect([first.customer.id, customer.id]).toEqual(['cust_000001', 'cust_000002']);
      expect([first.ip.id, ip.id]).toEqual([1, 2]);
      expect(ip.address).not.toBe(first.ip.address);
      expect(task.taskId > first.task.taskId).toBe(true);
      expect(lab.systems.customers.records().customers.map((c) => c.id)).toEqual(['cust_000001', 'cust_000002']);
    });
  });

  it('a call whose response was lost, then a restart: the retry under its key gets the first result, one record', async () => {
    await withLab((lab) => lab.reset());
    const o = key();
    await withLab(async (lab) => {
      lab.faults.inject({ system: 'payments', operation: 'charge', mode: 'failAfterApply' });
      await expect(lab.clients.payments.charge({ accountId: 'acct_1', amountCents: 100, currency: 'eur' }, o)).rejects.toMatchObject({
        retryable: true,
      });
    });
    await withLab(async (lab) => {
      expect(
        await lab.clients.payments.charge({ accountId: 'acct_1', amountCents: 100, currency: 'eur' }, { ...o, lookupOnly: true }),
      ).toEqual({ paymentId: 'ch_000001', status: 'succeeded' });
      expect(await lab.clients.payments.charge({ accountId: 'acct_1', amountCents: 100, currency: 'eur' }, o)).toEqual({
        paymentId: 'ch_000001',
        status: 'succeeded',
      });
      expect(lab.systems.payments.allCharges()).toHaveLength(1);
    });
  });

  it('npm run lab: a lab process killed with SIGKILL and started again keeps records, ids and keys', async () => {
    await withLab((lab) => lab.reset());
    const o = { idempotencyKey: 'process-create' };
    let lab = await startLabProcess(db.url);
    try {
      const clients = createHttpClients(lab.url);
      const created = await clients.customers.createCustomer({ name: 'Ada', email: 'ada@example.net' }, o);
      expect(created.id).toBe('cust_000001');
      lab.child.kill('SIGKILL');
      await lab.exited;
      lab = await startLabProcess(db.url);
      const again = createHttpClients(lab.url);
      expect(await again.customers.createCustomer({ name: 'Other', email: 'other@example.net' }, o)).toEqual(created);
      expect((await again.customers.createCustomer({ name: 'Bo', email: 'bo@example.net' }, key())).id).toBe('cust_000002');
      const report = await createHttpLabControl(lab.url).records();
      expect(report.records.customers.customers.map((c) => c.id)).toEqual(['cust_000001', 'cust_000002']);
    } finally {
      lab.child.kill('SIGKILL');
      await lab.exited;
    }
  });
});

/** Clients that call whichever lab was set last: a case's call, made in one lab, replayed on the next. */
function switchableClients(): { clients: Clients; use(lab: Lab): void } {
  let current: Lab | undefined;
  const clients = Object.fromEntries(
    Object.keys(LAB_OPERATIONS).map((system) => [
      system,
      new Proxy(
        {},
        {
          get:
            (_, operation: string) =>
            (...args: unknown[]) =>
              (current!.clients[system as keyof Clients] as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[operation]!(
                ...args,
              ),
        },
      ),
    ]),
  ) as unknown as Clients;
  return { clients, use: (lab) => (current = lab) };
}

async function startLabProcess(databaseUrl: string): Promise<{ url: string; child: ChildProcess; exited: Promise<unknown> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'lab/main.ts'], {
    cwd: new URL('..', import.meta.url),
    env: { ...process.env, LAB_DATABASE_URL: databaseUrl, LAB_PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise((r) => child.once('exit', r));
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.stderr!.on('data', (d) => (out += d));
    child.once('exit', (code) => reject(new Error(`lab exited (${code}):\n${out}`)));
  });
  return { url, child, exited };
}
