import { Hono } from 'hono';
import type { Runtime } from '../runtime/index.ts';

/** What the HTTP API needs. */
export interface AppDeps {
  readonly runtime: Runtime;
  /** True when the database answers and migrations are applied. */
  readonly ready?: () => Promise<boolean>;
}

/**
 * The HTTP API.
 * @example
 * ```ts
 * serve({ fetch: createApp({ runtime }).fetch, port: 3000 });
 * ```
 */
export function createApp(deps: AppDeps) {
  const app = new Hono();
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    const ok = (await deps.ready?.().catch(() => false)) ?? true;
    return c.json({ status: ok ? 'ready' : 'not_ready' }, ok ? 200 : 503);
  });
  return app;
}
