/**
 * Inbound webhooks on the real server (`api/main.ts`): sources from STATEKEEPER_WEBHOOKS, delivery ids in
 * the database, and the README's shell example (openssl + curl) run as written against a waiting sign-up.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { freePort } from '../adapters/postgres/postmaster.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { REPO_ROOT, startServerProcess, type ServerProcess } from './support/server-process.ts';

const run = promisify(execFile);
const SECRET = 'mail-secret-0123456789';

let db: TestDatabase;
let dataDir: string;
let server: ServerProcess | undefined;
let base: string;

beforeAll(async () => {
  db = await createTestDatabase();
  dataDir = await mkdtemp(path.join(tmpdir(), 'statekeeper-hooks-'));
  base = `http://127.0.0.1:${await freePort()}`;
});

afterAll(async () => {
  if (server && server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
  await server?.exited;
  await db?.drop();
  await rm(dataDir, { recursive: true, force: true });
});

/** The README's shell example of a signed webhook. */
function readmeScript(): string {
  const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Inbound webhooks'));
  return /```sh\n([\s\S]*?)```/.exec(section)![1]!;
}

test('the README example verifies email.verified for the sign-up waiting on that address; its replay is refused', {
  timeout: 240_000,
}, async () => {
  const sources = [
    {
      name: 'mail',
      kind: 'hmac',
      secretEnv: 'MAIL_HOOK_SECRET',
      map: {
        machine: 'sign-up',
        key: 'email',
        value: { from: '/recipient' },
        event: { type: 'email.verified', fields: { email: { from: '/recipient' } } },
      },
    },
  ];
  server = await startServerProcess(
    {
      ...process.env,
      DATABASE_URL: db.url,
      PORT: new URL(base).port,
      STATEKEEPER_DATA_DIR: dataDir,
      STATEKEEPER_POLL_MS: '100',
      STATEKEEPER_DEV_KEY: 'on',
      STATEKEEPER_WEBHOOKS: JSON.stringify({ sources }),
      MAIL_HOOK_SECRET: SECRET,
    },
    base,
    600,
  );
  expect(server.output()).toContain('webhooks on /v1/hooks/{mail}');
  const key = /development API key[^:]*: (sk_dev_[A-Za-z0-9_-]+)/.exec(server.output())![1]!;
  const started = await fetch(`${base}/v1/machines/sign-up/instances?wait=settled&timeoutMs=30000`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ input: { email: 'Ada@Example.net', name: 'Ada Lovelace' } }),
  });
  const instance = await started.json();
  expect(started.status, JSON.stringify(instance)).toBe(201);
  // Settled within the wait on an idle machine; under load, wait for the state instead of a fixed time.
  for (let state = instance.state; state !== 'awaitingVerification'; ) {
    await new Promise((r) => setTimeout(r, 200));
    state = (await (await fetch(`${base}/v1/instances/${instance.id}`, { headers: { Authorization: `Bearer ${key}` } })).json()).state;
  }

  const script = readmeScript();
  const env = { ...process.env, MAIL_HOOK_SECRET: SECRET, B: base };
  const first = JSON.parse((await run('bash', ['-c', script], { env })).stdout);
  expect(first).toMatchObject({ status: 'delivered', source: 'mail', deliveryId: 'mail-0001', key: 'email', value: 'ada@example.net' });
  expect(first.deliveries).toEqual([expect.objectContaining({ instanceId: instance.id, handled: true })]);
  const history = await (
    await fetch(`${base}/v1/instances/${instance.id}/history`, { headers: { Authorization: `Bearer ${key}` } })
  ).json();
  expect(history.items.find((e: { type: string }) => e.type === 'email.verified')).toMatchObject({
    source: 'webhook',
    actor: 'webhook:mail',
  });

  // The same delivery again (a fresh timestamp and signature, the same delivery id): refused, nothing applied.
  const again = JSON.parse((await run('bash', ['-c', script], { env })).stdout);
  expect(again.error).toMatchObject({ code: 'webhook_replayed' });
  // A wrong secret: 401.
  const forged = JSON.parse((await run('bash', ['-c', script], { env: { ...env, MAIL_HOOK_SECRET: 'not-the-secret-000000' } })).stdout);
  expect(forged.error).toMatchObject({ code: 'webhook_signature_invalid' });
  const after = await (await fetch(`${base}/v1/instances/${instance.id}/history`, { headers: { Authorization: `Bearer ${key}` } })).json();
  expect(after.items.filter((e: { type: string }) => e.type === 'email.verified')).toHaveLength(1);
});
