/**
 * Two real server processes (`api/main.ts`) on one database, polling once a
 * minute and re-reading quiet event streams once a minute: what one commits
 * or revokes reaches the other only by LISTEN/NOTIFY within these tests' time.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { freePort } from '../adapters/postgres/postmaster.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { eventually } from './support/poll.ts';
import { REPO_ROOT as root, startServerProcess, type ServerProcess } from './support/server-process.ts';

const run = promisify(execFile);

describe('two server processes on one database', () => {
  let db: TestDatabase;
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  const servers: ServerProcess[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    dataDir = await mkdtemp(path.join(tmpdir(), 'statekeeper-procs-'));
    env = {
      ...process.env,
      DATABASE_URL: db.url,
      STATEKEEPER_POLL_MS: '60000',
      STATEKEEPER_SSE_KEEPALIVE_MS: '60000',
      STATEKEEPER_DEV_KEY: 'off',
      LOG_LEVEL: 'warn',
    };
  });

  afterAll(async () => {
    for (const s of servers) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
    await Promise.all(servers.map((s) => s.exited));
    await db?.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  async function server(name: string): Promise<string> {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const dir = path.join(dataDir, name);
    servers.push(
      await startServerProcess({ ...env, PORT: String(port), STATEKEEPER_DATA_DIR: dir, STATEKEEPER_WORKER_ID: name }, base, 300),
    );
    return base;
  }

  const cli = async (...args: string[]) =>
    (await run(process.execPath, ['--import', 'tsx', 'api/cli.ts', ...args], { cwd: root, env })).stdout;

  test('an SSE stream on A sees a change committed by B; a key revoked is refused by both at once', { timeout: 180_000 }, async () => {
    const created = JSON.parse(await cli('apikey', 'create', '--tenant', 'procs', '--roles', 'operator', '--name', 'runner', '--json')) as {
      key: string;
      id: string;
    };
    const a = await server('a');
    const b = await server('b');
    const auth = { Authorization: `Bearer ${created.key}` };
    const json = { ...auth, 'Content-Type': 'application/json' };

    const started = await fetch(`${a}/v1/machines/greeting/instances?wait=settled&timeoutMs=20000`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ input: { name: 'Grace' } }),
    });
    expect(started.status).toBe(201);
    const instance = (await started.json()) as { id: string; state: string };
    expect(instance.state).toBe('awaitingConfirmation');

    const stream = await fetch(`${a}/v1/instances/${instance.id}/stream`, { headers: auth });
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

    // B applies the event; A's stream hears of it by NOTIFY (it would re-read only after a minute of quiet).
    const confirm = await fetch(`${b}/v1/instances/${instance.id}/events`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ type: 'greeting.confirm' }),
    });
    expect(confirm.status).toBe(200);
    await readUntil('event: end');
    expect(sse).toContain('event: change');
    expect(sse).toMatch(/"status":"done"/);
    await reader.cancel();

    // Both servers have the key cached by now; a revocation made elsewhere (the CLI) reaches both without waiting for the TTL.
    for (const base of [a, b]) expect((await fetch(`${base}/v1/instances`, { headers: auth })).status).toBe(200);
    await cli('apikey', 'revoke', '--id', created.id);
    for (const base of [a, b]) {
      await eventually(async () => (await fetch(`${base}/v1/instances`, { headers: auth })).status === 401, `${base} to refuse the key`);
    }
  });
});
