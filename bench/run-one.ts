import type { Runtime } from '../runtime/index.ts';

/**
 * One 3-step workflow from start to its final commit, as every workflow row of the bench measures it
 * (in this process and in the multi-process children alike).
 */
export function workflowRunner(runtime: Runtime): () => Promise<void> {
  const finished = new Map<string, () => void>();
  runtime.subscribe((c) => c.status !== 'active' && finished.get(c.instanceId)?.());
  return async () => {
    const id = crypto.randomUUID();
    const done = new Promise<void>((r) => finished.set(id, r));
    await runtime.start({ machine: 'three-steps', instanceId: id, input: { n: 1 } });
    await done;
    finished.delete(id);
  };
}
