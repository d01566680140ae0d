import { fileURLToPath } from 'node:url';
import { startWorker, type Worker } from './worker.ts';

const script = fileURLToPath(new URL('./saga-worker-process.ts', import.meta.url));

/** A saga runtime in a real child process (see `saga-worker-process.ts`) that a test can call and kill with SIGKILL. */
export type SagaWorker = Worker;

/** Forks `saga-worker-process.ts` and resolves once its runtime has resumed. */
export function startSagaWorker(env: Record<string, string>): Promise<SagaWorker> {
  return startWorker(env, script);
}
