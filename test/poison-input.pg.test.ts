/**
 * Values that pass a shape check but that Postgres (or a recursive walk)
 * cannot take — NUL characters, lone surrogates, dates outside the years
 * 1–9999, JSON nested thousands deep — sent to every route in every place a
 * value goes (path, query, body, keys). Each must be a 4xx in the error shape,
 * and nothing may change in the database. Then the answers that Node's HTTP
 * parser gives (431, a malformed request line), a wrong method (405 + Allow)
 * and a 413 read by the client before the connection closes.
 */
import { serve, type ServerType } from '@hono/node-server';
import type { Server } from 'node:http';
import { connect } from 'node:net';
import pg from 'pg';
import type { MikroORM } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { greetingSteps } from '../actors/greeting-steps.ts';
import { openDatabase, PgInstanceStore } from '../adapters/postgres/index.ts';
import { createApp, type App } from '../api/app.ts';
import { ApiKeyAuthenticator, createApiKey } from '../api/auth/api-keys.ts';
import { MemoryApiKeyStore } from '../api/auth/memory-key-store.ts';
import { answerClientErrors } from '../api/middleware/protocol-errors.ts';
import { greetingMachine } from '../machines/greeting.machine.ts';
import { createRuntime, type Runtime } from '../runtime/index.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';

const NUL = 'a\u0000b';
const LONE_HIGH = 'x\uD800y';
const LONE_LOW = '\uDC00';
const TEXTS = [NUL, LONE_HIGH, LONE_LOW];
// As text: JSON.stringify itself overflows the stack on such values.
const DEEP = `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`;
const DEEP_ARRAY = `${'['.repeat(3000)}${']'.repeat(3000)}`;
const BAD_DATES = ['0000-01-01T00:00:00Z', '0000-12-31T23:59:59.999Z'];
const cursor = (at: string, id: string) => Buffer.from(JSON.stringify([at, id])).toString('base64url');
const BAD_CURSORS = [
  cursor('0000-06-01T00:00:00.000Z', 'x'),
  cursor('+275760-09-13T00:00:00.000Z', 'x'),
  cursor('-000001-01-01T00:00:00.000Z', 'x'),
  cursor('2026-01-01T00:00:00.000Z', NUL),
  cursor('2026-01-01T00:00:00.000Z', LONE_HIGH),
];
const QUERY_NAMES = [
  'machine',
  'version',
  'status',
  'state',
  'parent',
  'cursor',
  'createdAfter',
  'updatedBefore',
  'wait',
  'format',
  'afterSeq',
  'verify',
];

describe('poison values on every route', () => {
  let db: TestDatabase;
  let orm: MikroORM;
  let runtime: Runtime;
  let app: App;
  let server: ServerType;
  let base: string;
  let key: string;
  let instanceId: string;
  let admin: pg.Client;
  const internal: unknown[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    orm = await openDatabase({ url: db.url, poolSize: 4 });
    const machines = [{ machine: greetingMachine, options: { version: '1' } }];
    runtime = await createRuntime({ store: new PgInstanceStore(orm), pollIntervalMs: 0, machines, steps: greetingSteps });
    const keys = new MemoryApiKeyStore();
    key = (await createApiKey(keys, { tenant: 'acme', name: 'fuzz', roles: 'admin' })).key;
    app = createApp({ runtime, auth: new ApiKeyAuthenticator(keys), reportError: (e) => internal.push(e), bodyLimitBytes: 64 * 1024 });
    server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
    answerClientErrors(server as Server);
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    instanceId = (await runtime.start({ machine: 'greeting', input: { name: 'Ada' }, tenant: 'acme' })).id;
    await runtime.settled();
    admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
  });

  afterAll(async () => {
    await admin?.end();
    server?.close();
    await runtime?.close();
    await orm?.close();
    await db?.drop();
  });

  /** Everything that a request could have changed. */
  const dbState = async () =>
    (
      await admin.query(`select
        (select count(*) from sk_instance) as instances, (select max(updated_at) from sk_instance) as touched,
        (select count(*) from sk_event) as events, (select count(*) from sk_effect) as effects,
        (select max(updated_at) from sk_effect) as effects_touched`)
    ).rows[0];

  const send = async (method: string, path: string, body?: string) => {
    const headers: Record<string, string> = { Authorization: `Bearer ${key}` };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(`${base}${path}`, { method, headers, body });
    return { status: res.status, text: await res.text() };
  };

  /** The app's routes with their path parameters filled in. */
  const routes = () =>
    app.routes
      .filter((r) => r.method !== 'ALL' && r.path.startsWith('/v1/'))
      .map((r) => ({ method: r.method, path: r.path.replace(':id', r.path.startsWith('/v1/machines') ? 'greeting' : instanceId) }));

  /** Requests carrying each poison value in every place a value can go. */
  function poisonRequests(): { method: string; path: string; body?: string }[] {
    const out: { method: string; path: string; body?: string }[] = [];
    for (const r of routes()) {
      const hasBody = r.method === 'POST';
      // A URL cannot carry a lone surrogate (it would arrive as U+FFFD): NUL is the text poison there.
      const body = hasBody ? '{}' : undefined;
      for (const name of QUERY_NAMES) out.push({ ...r, path: `${r.path}?${name}=${encodeURIComponent(NUL)}`, body });
      // Dates and cursors are poison where they are read: the instance list.
      if (r.method === 'GET' && r.path === '/v1/instances') {
        for (const name of ['createdAfter', 'createdBefore', 'updatedAfter', 'updatedBefore']) {
          for (const v of BAD_DATES) out.push({ ...r, path: `${r.path}?${name}=${v}` });
        }
        for (const v of BAD_CURSORS) out.push({ ...r, path: `${r.path}?cursor=${v}` });
      }
      if (r.path.includes(instanceId)) out.push({ ...r, path: r.path.replace(instanceId, encodeURIComponent(NUL)), body });
      if (!hasBody) continue;
      const bodies = [DEEP, `{"input":${DEEP}}`, `{"input":${DEEP_ARRAY}}`, `{"type":"greeting.confirm","nested":${DEEP}}`];
      for (const t of TEXTS) {
        const shapes = [
          { input: { name: t } },
          { input: { [t]: 1 } },
          { instanceId: t },
          { type: t },
          { type: 'greeting.confirm', note: t },
          { reason: t },
          { [t]: 'x' },
        ];
        bodies.push(...shapes.map((b) => JSON.stringify(b)));
      }
      for (const body of bodies) out.push({ ...r, body });
    }
    return out;
  }

  test('each is a 4xx in the error shape and changes nothing', { timeout: 300_000 }, async () => {
    const before = await dbState();
    const requests = poisonRequests();
    expect(requests.length).toBeGreaterThan(500);
    const failures: string[] = [];
    for (const r of requests) {
      const res = await send(r.method, r.path, r.body);
      let body: { error?: { code?: unknown; message?: unknown; requestId?: unknown } } | undefined;
      try {
        body = JSON.parse(res.text);
      } catch {
        body = undefined;
      }
      const e = body?.error;
      const shaped = typeof e?.code === 'string' && typeof e.message === 'string' && typeof e.requestId === 'string';
      if (res.status < 400 || res.status >= 500 || !shaped) {
        failures.push(`${r.method} ${r.path.slice(0, 120)} ${r.body?.slice(0, 80) ?? ''} → ${res.status} ${res.text.slice(0, 160)}`);
      }
    }
    expect(failures.slice(0, 20), `${failures.length} of ${requests.length} requests`).toEqual([]);
    expect(await dbState()).toEqual(before);
    expect(internal).toEqual([]);
  });

  test('a wrong method is a 405 with Allow; an unknown path stays a 404', async () => {
    const wrong = await fetch(`${base}/v1/instances/${instanceId}`, { method: 'DELETE', headers: { Authorization: `Bearer ${key}` } });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('Allow')).toBe('GET, HEAD');
    expect((await wrong.json()).error).toMatchObject({ code: 'method_not_allowed', requestId: expect.any(String) });
    const events = await fetch(`${base}/v1/instances/${instanceId}/events`, { method: 'GET', headers: { Authorization: `Bearer ${key}` } });
    expect([events.status, events.headers.get('Allow')]).toEqual([405, 'POST']);
    const unknown = await fetch(`${base}/v1/nothing-here`, { headers: { Authorization: `Bearer ${key}` } });
    expect([unknown.status, (await unknown.json()).error.code]).toEqual([404, 'route_not_found']);
  });

  test("answers of Node's HTTP parser keep the error shape: 431, malformed request line", async () => {
    const port = Number(new URL(base).port);
    const huge = await rawRequest(port, `GET /v1/instances HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(huge.status).toBe(431);
    expect(JSON.parse(huge.body).error).toMatchObject({ code: 'headers_too_large', requestId: expect.any(String) });
    const garbage = await rawRequest(port, 'THIS IS NOT HTTP\r\n\r\n');
    expect(garbage.status).toBe(400);
    expect(JSON.parse(garbage.body).error).toMatchObject({ code: 'malformed_request' });
  });

  test('a 413 reaches the client before the connection closes, with most of the body never sent', async () => {
    const port = Number(new URL(base).port);
    const head =
      `POST /v1/machines/greeting/instances HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${10 * 1024 * 1024}\r\n\r\n{"input":"${'a'.repeat(1000)}`;
    const res = await rawRequest(port, head);
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body).error).toMatchObject({ code: 'payload_too_large' });
  });
});

/** Writes `text` on a fresh connection and reads the response (status and body) until the server ends it or it is complete. */
function rawRequest(port: number, text: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    const done = () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1]);
      const length = Number(/content-length: (\d+)/i.exec(data)?.[1] ?? NaN);
      const body = data.slice(data.indexOf('\r\n\r\n') + 4);
      if (status && Number.isFinite(length) && Buffer.byteLength(body) >= length) {
        socket.destroy();
        resolve({ status, body: body.slice(0, length) });
        return true;
      }
      return false;
    };
    socket.on('data', (d) => {
      data += d;
      done();
    });
    socket.on('end', () => (done() ? undefined : reject(new Error(`incomplete response: ${data.slice(0, 200)}`))));
    socket.on('error', (e) => (done() ? undefined : reject(e)));
    socket.write(text);
  });
}
