import type { Runtime } from '../../runtime/index.ts';

/**
 * The child side of the crash-test IPC protocol (see `worker.ts`): each
 * `{ id, op, args }` message calls `runtime[op](...args)` and answers
 * `{ id, ok, result }` or `{ id, ok: false, error }`; `{ ready: true }` once serving.
 */
export function serveRuntimeOverIpc(runtime: Runtime): void {
  process.on('message', async (msg: { id: number; op: string; args: unknown[] }) => {
    try {
      const result = await (runtime as unknown as Record<string, (...a: unknown[]) => unknown>)[msg.op]!(...msg.args);
      process.send!({ id: msg.id, ok: true, result });
    } catch (e) {
      process.send!({ id: msg.id, ok: false, error: { message: (e as Error).message, code: (e as { code?: string }).code } });
    }
  });
  process.send!({ ready: true });
}
