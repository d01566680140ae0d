import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const defaultScript = fileURLToPath(new URL('./worker-process.ts', import.meta.url));

/** A runtime in a real child process that a test can call and kill with SIGKILL. */
export interface Worker {
  call<T = any>(op: string, ...args: unknown[]): Promise<T>;
  kill(): Promise<void>;
  readonly pid: number;
}

/**
 * Forks a runtime process (`worker-process.ts` unless `script` names another
 * speaking the same IPC protocol) and resolves once its runtime has resumed.
 */
export async function startWorker(env: Record<string, string>, script = defaultScript): Promise<Worker> {
  const child: ChildProcess = fork(script, [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  let seq = 0;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await new Promise<void>((resolve, reject) => {
    const onMsg = (m: any) => m?.ready && (child.off('message', onMsg), resolve());
    child.on('message', onMsg);
    child.once('exit', (code) => reject(new Error(`worker exited early with code ${code}`)));
  });
  child.on('message', (m: any) => {
    const p = pending.get(m?.id);
    if (!p) return;
    pending.delete(m.id);
    m.ok ? p.resolve(m.result) : p.reject(Object.assign(new Error(m.error.message), { code: m.error.code }));
  });
  return {
    pid: child.pid!,
    call(op, ...args) {
      const id = ++seq;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        child.send({ id, op, args });
      });
    },
    async kill() {
      child.kill('SIGKILL');
      await exited;
      for (const p of pending.values()) p.reject(new Error('worker killed'));
    },
  };
}
