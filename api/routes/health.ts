import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { AppDeps } from '../app.ts';
import type { ApiEnv } from '../env.ts';

const health = createRoute({
  method: 'get',
  path: '/healthz',
  tags: ['health'],
  summary: 'Liveness: the process answers',
  responses: { 200: { description: 'Alive', content: { 'application/json': { schema: z.object({ status: z.literal('ok') }) } } } },
});

const ReadySchema = z.object({ status: z.enum(['ready', 'not_ready']) });
const ready = createRoute({
  method: 'get',
  path: '/readyz',
  tags: ['health'],
  summary: 'Readiness: the database answers and migrations are applied',
  responses: {
    200: { description: 'Ready', content: { 'application/json': { schema: ReadySchema } } },
    503: { description: 'Not ready', content: { 'application/json': { schema: ReadySchema } } },
  },
});

/** `GET /healthz`, `GET /readyz` (no credential needed). */
export function registerHealthRoutes(app: OpenAPIHono<ApiEnv>, deps: AppDeps): void {
  app.openapi(health, (c) => c.json({ status: 'ok' as const }, 200));
  app.openapi(ready, async (c) => {
    const ok = (await deps.ready?.().catch(() => false)) ?? true;
    return ok ? c.json({ status: 'ready' as const }, 200) : c.json({ status: 'not_ready' as const }, 503);
  });
}
