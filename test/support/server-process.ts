/**
 * The real server (`api/main.ts`) in a child process, for end-to-end tests
 * over HTTP: started on a given environment, ready once `/healthz` answers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A started server. */
export interface ServerProcess {
  readonly child: ChildProcess;
  /** Everything it printed so far (stdout and stderr). */
  readonly output: () => string;
  /** Resolves with the exit code once it exits. */
  readonly exited: Promise<number | null>;
}

/** Starts `api/main.ts` with `env` and resolves once `base/healthz` answers (fails with the output if it exits first). */
export async function startServerProcess(env: NodeJS.ProcessEnv, base: string, tries = 600): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'api/main.ts'], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const server = { child, output: () => out, exited };
  for (let i = 0; i < tries; i++) {
    if (child.exitCode !== null) throw new Error(`server exited early (${child.exitCode}):\n${out}`);
    const ok = await fetch(`${base}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return server;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`server did not answer /healthz:\n${out}`);
}
