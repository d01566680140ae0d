/**
 * Ctrl-C of `npm start`: the terminal sends SIGINT to its whole foreground
 * process group. The server must stop quietly with exit code 0 — with a step
 * in flight, and in the middle of start-up — and take its embedded PostgreSQL
 * with it (which must not have taken the SIGINT itself and died mid-stop).
 *
 * @remarks Runs the real server on an embedded database of its own, so it is
 * not part of the Postgres-server suite.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { freePort, isAlive } from '../adapters/postgres/postmaster.ts';
import { eventually } from './support/poll.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const dirs: string[] = [];

afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** `npm start` (tsx api/main.ts) in a process group of its own, as a terminal's foreground job. */
async function startServer() {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'statekeeper-sigint-'));
  await chmod(dataDir, 0o755);
  dirs.push(dataDir);
  const [port, labPort] = [await freePort(), await freePort()];
  const child = spawn(path.join(root, 'node_modules/.bin/tsx'), ['api/main.ts'], {
    cwd: root,
    detached: true,
    env: { ...process.env, STATEKEEPER_DATA_DIR: dataDir, PORT: String(port), LAB_PORT: String(labPort), STATEKEEPER_POLL_MS: '100' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ctrlC = () => process.kill(-child.pid!, 'SIGINT');
  const postmasterPid = () => {
    const file = path.join(dataDir, 'pg', 'postmaster.pid');
    return existsSync(file) ? Number(readFileSync(file, 'utf8').split('\n')[0]) : undefined;
  };
  const out = () => ({ stdout, stderr });
  return { child, dataDir, base: `http://127.0.0.1:${port}`, lab: `http://127.0.0.1:${labPort}`, exited, ctrlC, postmasterPid, out };
}

describe('Ctrl-C of the server', () => {
  test('with a step in flight: quiet stop, exit 0, embedded PostgreSQL gone', { timeout: 120_000 }, async () => {
    const server = await startServer();
    const listening = async () => server.out().stdout.includes('listening on') || server.child.exitCode !== null;
    await eventually(listening, 'the server to listen', 90_000);
    expect(server.child.exitCode, server.out().stderr).toBeNull();
    const key = readFileSync(path.join(server.dataDir, 'dev-api-key'), 'utf8').trim();
    // The first step's call hangs in the lab until the stop aborts it.
    const fault = await fetch(`${server.lab}/lab/faults`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ system: 'customers', operation: 'createCustomer', mode: 'latency', latencyMs: 600_000 }),
    });
    expect(fault.status).toBe(201);
    const started = await fetch(`${server.base}/v1/machines/subscriber-provisioning/instances`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        input: {
          customer: { name: 'Ada Lovelace', email: 'ada@example.net' },
          subscriber: { username: 'ada', plan: 'fiber-100' },
          radius: { password: 's3cretpass' },
          ipPrefixId: 1,
          onu: { serialNumber: 'ALCL00000001', oltPort: 'olt1/1/1' },
        },
      }),
    });
    expect(started.status).toBe(201);
    await eventually(async () => {
      const faults = (await (await fetch(`${server.lab}/lab/faults`)).json()) as { hits: number }[];
      return faults[0]!.hits > 0;
    }, 'the step call to reach the lab');
    const pgPid = server.postmasterPid();
    expect(pgPid).toBeGreaterThan(0);

    server.ctrlC();
    expect(await server.exited).toBe(0);
    const { stdout, stderr } = server.out();
    expect(stderr).toBe('');
    expect(stdout).toContain('statekeeper: SIGINT, stopping');
    expect(stdout).toContain('statekeeper: stopped');
    expect(stdout).not.toMatch(/failed|Error/);
    expect(isAlive(pgPid!)).toBe(false);
  });

  test('during start-up: stops once the current step is done, exit 0, embedded PostgreSQL gone', { timeout: 120_000 }, async () => {
    const server = await startServer();
    await eventually(async () => server.postmasterPid() ?? server.child.exitCode !== null, 'the embedded server to start', 90_000);
    const pgPid = server.postmasterPid();
    server.ctrlC();
    const code = await server.exited;
    const { stdout, stderr } = server.out();
    expect(code, `${stdout}\n${stderr}`).toBe(0);
    expect(stderr).toBe('');
    expect(stdout).toContain('statekeeper: stopped');
    expect(isAlive(pgPid!)).toBe(false);
  });
});
