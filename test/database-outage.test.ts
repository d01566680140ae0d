/**
 * A database outage under a running API: backends terminated by
 * `pg_terminate_backend` (what a restart does to every open connection), then
 * the server stopped and started again. The process must survive (no
 * unhandled `'error'` event from any pool), answer 503 with `Retry-After`
 * while the database is away, and serve again once it is back.
 *
 * @remarks Runs its own embedded server (it is stopped and started here), so it
 * is not part of the Postgres-server suite.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { MikroORM } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openDatabase, PgInstanceStore, startEmbeddedPostgres, type EmbeddedPostgresServer } from '../adapters/postgres/index.ts';
import { PgApiKeyStore } from '../adapters/postgres/pg-key-store.ts';
import { ApiKeyAuthenticator, createApiKey } from '../api/auth/api-keys.ts';
import { createApp, type App } from '../api/app.ts';
import { bundledWorkflows, type BundledWorkflows } from '../api/workflows.ts';
import { createRuntime, type Runtime } from '../runtime/index.ts';
import { freePort } from '../adapters/postgres/postmaster.ts';
import { eventually } from './support/poll.ts';

// Starting, stopping and restarting a server of its own (initdb, shutdown checkpoints) is slow on a loaded machine.
const SLOW_HOOK_MS = 180_000;

describe('database outage under a running API', () => {
  let dir: string;
  let port: number;
  let server: EmbeddedPostgresServer;
  let orm: MikroORM;
  let store: PgInstanceStore;
  let workflows: BundledWorkflows;
  let runtime: Runtime;
  let app: App;
  let key: string;
  const internalErrors: unknown[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'statekeeper-outage-'));
    await chmod(dir, 0o755);
    port = await freePort();
    server = await startEmbeddedPostgres({ dataDir: path.join(dir, 'data'), port });
    orm = await openDatabase({ url: server.url, poolSize: 4 });
    store = new PgInstanceStore(orm);
    workflows = await bundledWorkflows({ databaseUrl: server.url });
    const machines = workflows.machines.map((m) => ({ machine: m.machine, options: m.options }));
    runtime = await createRuntime({ store, workerId: 'outage', pollIntervalMs: 50, machines, steps: workflows.steps });
    const keys = new PgApiKeyStore(orm);
    key = (await createApiKey(keys, { tenant: 'acme', name: 'ops', roles: 'admin' })).key;
    const ready = async () => (await orm.checkConnection()).ok;
    app = createApp({ runtime, auth: new ApiKeyAuthenticator(keys), reportError: (e) => internalErrors.push(e), ready });
  }, SLOW_HOOK_MS);

  afterAll(async () => {
    await runtime?.close();
    await workflows?.close();
    await store?.close();
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  }, SLOW_HOOK_MS);

  const call = async (method: string, url: string, body?: unknown) => {
    const res = await app.request(url, {
      method,
      headers: { Authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, retryAfter: res.headers.get('Retry-After'), json: (await res.json()) as any };
  };
  const start = (name: string) => call('POST', '/v1/machines/greeting/instances?wait=settled', { input: { name } });
  /** Every answer during an outage is a success or a 503 that says to retry. */
  const expectOkOrRetry = (r: Awaited<ReturnType<typeof call>>) => {
    if (r.status < 300) return true;
    expect(r.status, JSON.stringify(r.json)).toBe(503);
    expect(r.json.error.code).toBe('database_unavailable');
    expect(Number(r.retryAfter)).toBeGreaterThan(0);
    return false;
  };

  test('terminated backends: the pools drop them, requests answer 200 or 503, then 200', { timeout: 120_000 }, async () => {
    // Idle clients in every pool: the instance store's, the key store's (MikroORM) and the lab's.
    expect((await start('before')).status).toBe(201);
    await workflows.lab!.lab.systems.radius.records();
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    const { rowCount } = await admin.query(
      'select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()',
    );
    await admin.end();
    expect(rowCount).toBeGreaterThan(0);
    await eventually(async () => expectOkOrRetry(await call('GET', '/v1/instances')), 'the API to serve again');
    expect((await start('after')).status).toBe(201);
    expect(await workflows.lab!.lab.systems.radius.records()).toEqual({ radcheck: [], radreply: [] });
    expect(internalErrors).toEqual([]);
  });

  test('server stopped: 503 with Retry-After on reads, writes and readiness; served again after it starts', {
    timeout: 120_000,
  }, async () => {
    const before = await start('kept');
    expect(before.status).toBe(201);
    await server.stop();
    for (const r of [await call('GET', '/v1/instances'), await call('GET', `/v1/instances/${before.json.id}`), await start('during')]) {
      expect(r.status, JSON.stringify(r.json)).toBe(503);
      expect(r.json.error.code).toBe('database_unavailable');
      expect(r.retryAfter).toBe('2');
    }
    expect((await app.request('/readyz')).status).toBe(503);
    server = await startEmbeddedPostgres({ dataDir: path.join(dir, 'data'), port });
    await eventually(async () => expectOkOrRetry(await call('GET', `/v1/instances/${before.json.id}`)), 'the API to serve again');
    expect((await call('GET', `/v1/instances/${before.json.id}`)).json.state).toBe('awaitingConfirmation');
    expect((await start('after restart')).status).toBe(201);
    expect((await app.request('/readyz')).status).toBe(200);
    expect(internalErrors).toEqual([]);
  });
});
