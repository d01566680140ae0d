import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ExternalSystemError, type Clients } from '../../actors/clients/index.ts';
import { createLab } from '../lab.ts';
import { inventory, key, operationCases } from '../operation-cases.fixture.ts';
import { createHttpClients } from './http-clients.ts';
import { createHttpLabControl } from './http-lab-control.ts';
import { createLabApp } from './lab-app.ts';

const lab = createLab();
let server: ServerType;
let baseUrl: string;
let clients: Clients;

beforeAll(async () => {
  baseUrl = await new Promise<string>((resolve) => {
    server = serve({ fetch: createLabApp(lab).fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) =>
      resolve(`http://127.0.0.1:${info.port}`),
    );
  });
  clients = createHttpClients(baseUrl);
});
afterAll(() => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))));
beforeEach(() => lab.reset());

describe('lab over HTTP', () => {
  it.each(operationCases)('$name round-trips and is idempotent by the Idempotency-Key header', async ({ name, setup }) => {
    const call = await setup(clients);
    const o = key();
    const first = await call(o);
    const after = await inventory(lab);
    expect(await call(o)).toEqual(first);
    expect(await inventory(lab)).toBe(after);
    const [system, operation] = name.split('.') as ['onu', 'activate'];
    expect(lab.calls.count(system, operation)).toBeGreaterThanOrEqual(2);
  });

  it.each(operationCases)('$name answers a lookup by key (Idempotency-Lookup: only) without applying anything', async ({ setup }) => {
    const call = await setup(clients);
    const o = key();
    await expect(call({ ...o, lookupOnly: true })).rejects.toMatchObject({
      code: 'unknown_idempotency_key',
      status: 404,
      retryable: false,
    });
    const first = await call(o);
    const after = await inventory(lab);
    expect(await call({ ...o, lookupOnly: true })).toEqual(first);
    expect(await inventory(lab)).toBe(after);
  });

  it('provisions over HTTP and the records show it', async () => {
    const customer = await clients.customers.createCustomer({ name: 'Ada', email: 'ada@example.net' }, key());
    const ip = await clients.ipam.allocateAddress({ prefixId: 1, description: customer.id }, key());
    await clients.radius.createAccount({ username: 'ada', password: 'pw', framedIp: ip.address }, key());
    expect(ip).toEqual({ id: 1, address: '10.0.0.1/24', status: 'active', description: 'cust_000001' });
    const report = await createHttpLabControl(baseUrl).records();
    expect(report.liveCount).toBe(3);
    expect(report.records.radius.radreply).toEqual([
      { id: 1, username: 'ada', attribute: 'Framed-IP-Address', op: '=', value: '10.0.0.1' },
    ]);
    expect(await clients.billing.listBillableAccounts({ period: '2025-10' })).toEqual([]);
  });

  it('a fault injected over HTTP reaches the HTTP clients as a retryable ExternalSystemError', async () => {
    const control = createHttpLabControl(baseUrl);
    const fault = await control.faults.inject({ system: 'onu', operation: 'activate', mode: 'fail', times: 1 });
    expect(await control.faults.list()).toEqual([expect.objectContaining({ id: fault.id, remaining: 1 })]);
    const req = { serialNumber: 'ALCLf0e1d2c3', oltPort: 'olt1/1/1', subscriberId: 'sub_1' };
    const o = key();
    const error = await clients.onu.activate(req, o).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExternalSystemError);
    expect(error).toMatchObject({ system: 'onu', operation: 'activate', retryable: true, status: 503, code: 'injected_fault' });
    await expect(clients.onu.activate(req, o)).resolves.toEqual({ onuId: 'onu_000001' });
    expect(await control.calls()).toEqual({ 'onu.activate': 2 });
    expect(await control.faults.clear({ system: 'onu' })).toBe(1);
  });

  it('maps statuses: 429 and 5xx are retryable, 4xx are not', async () => {
    const control = createHttpLabControl(baseUrl);
    await control.faults.inject({ system: 'payments', operation: 'charge', mode: 'fail', status: 429, times: 1 });
    await control.faults.inject({ system: 'payments', operation: 'charge', mode: 'fail', retryable: false, times: 1 });
    const charge = () => clients.payments.charge({ accountId: 'a', amountCents: 100, currency: 'EUR' }, key());
    await expect(charge()).rejects.toMatchObject({ status: 429, retryable: true });
    await expect(charge()).rejects.toMatchObject({ status: 422, retryable: false });
    await expect(clients.payments.refund('ch_unknown', key())).rejects.toMatchObject({ status: 404, retryable: false, code: 'not_found' });
    await expect(clients.ipam.allocateAddress({ prefixId: 99, description: '' }, key())).rejects.toMatchObject({
      status: 404,
      retryable: false,
      message: expect.stringMatching(/^ipam\.allocateAddress: prefix 99/),
    });
  });

  it('failAfterApply over HTTP: the retry with the same key returns the one charge', async () => {
    const control = createHttpLabControl(baseUrl);
    await control.faults.inject({ system: 'payments', operation: 'charge', mode: 'failAfterApply', times: 1 });
    const o = key();
    const req = { accountId: 'acct_1', amountCents: 4900, currency: 'EUR' };
    await expect(clients.payments.charge(req, o)).rejects.toMatchObject({ retryable: true });
    expect(await clients.payments.charge(req, o)).toEqual({ paymentId: 'ch_000001', status: 'succeeded' });
    expect((await control.records()).records.payments.charges).toHaveLength(1);
  });

  it('declines configured accounts set over HTTP', async () => {
    await createHttpLabControl(baseUrl).setDeclinedAccounts(['acct_9']);
    expect(await clients.payments.charge({ accountId: 'acct_9', amountCents: 100, currency: 'EUR' }, key())).toMatchObject({
      status: 'declined',
    });
  });

  it("the AbortSignal reaches fetch: a latency fault ends at the caller's timeout", async () => {
    await createHttpLabControl(baseUrl).faults.inject({ system: 'cpe', mode: 'latency', latencyMs: 300 });
    const started = performance.now();
    await expect(
      clients.cpe.configure({ deviceId: 'd', parameterValues: [['a', 1]] }, { ...key(), signal: AbortSignal.timeout(50) }),
    ).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(performance.now() - started).toBeLessThan(250);
    // Had the server kept waiting, it would have applied the task after 300 ms.
    await new Promise((r) => setTimeout(r, 500));
    expect(lab.systems.cpe.tasks()).toEqual([]);
    expect(lab.calls.count('cpe', 'configure')).toBe(1);
  });

  it('an unreachable service is a retryable ExternalSystemError', async () => {
    const offline = createHttpClients('http://127.0.0.1:1');
    await expect(offline.onu.deactivate('onu_1', key())).rejects.toMatchObject({ retryable: true, code: 'upstream_error' });
  });
});

describe('vendor shapes (in process, app.request)', () => {
  const app = createLabApp(lab);
  const json = (body: unknown, key?: string) => ({
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json', ...(key ? { 'Idempotency-Key': key } : {}) },
  });

  it('NetBox: POST available-ips answers 201 with the ip-address object; DELETE answers 204', async () => {
    const created = await app.request('/api/ipam/prefixes/1/available-ips/', json({ description: 'ada' }, 'nb-1'));
    expect(created.status).toBe(201);
    expect(await created.json()).toEqual({ id: 1, address: '10.0.0.1/24', status: 'active', description: 'ada' });
    const available = (await (await app.request('/api/ipam/prefixes/1/available-ips/')).json()) as { address: string }[];
    expect(available[0]).toEqual({ family: 4, address: '10.0.0.2/24', vrf: null });
    const list = await (await app.request('/api/ipam/ip-addresses/')).json();
    expect(list).toMatchObject({ count: 1, results: [{ id: 1 }] });
    const deleted = await app.request('/api/ipam/ip-addresses/1/', { method: 'DELETE', headers: { 'Idempotency-Key': 'nb-2' } });
    expect(deleted.status).toBe(204);
  });

  it('GenieACS: POST /devices/{id}/tasks answers the task', async () => {
    const res = await app.request(
      '/devices/202BC1-BM632w-000001/tasks?connection_request',
      json({ name: 'setParameterValues', parameterValues: [['Device.WiFi.SSID.1.SSID', 'ada', 'xsd:string']] }, 'g-1'),
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      _id: expect.stringMatching(/^[0-9a-f]{24}$/),
      name: 'setParameterValues',
      device: '202BC1-BM632w-000001',
      parameterValues: [['Device.WiFi.SSID.1.SSID', 'ada', 'xsd:string']],
    });
  });

  it('a mutating route without Idempotency-Key, or with a bad body, is a 400 with a code and request id', async () => {
    const missing = await app.request('/payments/charges', json({ accountId: 'a', amountCents: 1, currency: 'EUR' }));
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ code: 'missing_idempotency_key', retryable: false, requestId: expect.any(String) });
    const bad = await app.request('/payments/charges', json({ accountId: 'a' }, 'p-1'));
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: 'invalid_request', system: 'payments', operation: 'charge' });
    const fault = await app.request('/lab/faults', json({ system: 'onu', operation: 'explode', mode: 'fail' }));
    expect(await fault.json()).toMatchObject({ code: 'invalid_request', message: expect.stringMatching(/no operation "explode"/) });
  });

  it('an unknown route is a 404 with a code', async () => {
    const res = await app.request('/nowhere');
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ code: 'not_found' });
  });
});
