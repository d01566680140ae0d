import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { AppDeps } from '../app.ts';
import { principalOf, type ApiEnv } from '../env.ts';
import { requireRole } from '../middleware/auth.ts';
import { BEARER, errors, StatsSchema } from '../schemas.ts';

const getStats = createRoute({
  method: 'get',
  path: '/v1/stats',
  tags: ['stats'],
  summary: "The caller's tenant: instances by machine and status, step failures and retries, outcomes, durations",
  security: BEARER,
  middleware: [requireRole('viewer')] as const,
  responses: {
    200: { description: 'Statistics', content: { 'application/json': { schema: StatsSchema } } },
    ...errors(403),
  },
});

/** `GET /v1/stats`. */
export function registerStatsRoutes(app: OpenAPIHono<ApiEnv>, deps: AppDeps): void {
  app.openapi(getStats, async (c) => c.json(await deps.runtime.stats({ tenant: principalOf(c).tenant }), 200));
}
