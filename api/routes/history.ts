import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { AppDeps } from '../app.ts';
import { principalOf, type ApiEnv } from '../env.ts';
import { requireRole } from '../middleware/auth.ts';
import { BEARER, errors, HistoryEntrySchema, InstanceParams } from '../schemas.ts';
import { historyEntry } from '../views.ts';

const HistoryQuery = z
  .object({
    cursor: z.string().regex(/^\d{1,10}$/, 'a nextCursor returned by this endpoint').optional().openapi({ description: 'Entries after this sequence number (nextCursor of the previous page)' }),
    limit: z.coerce.number().int().min(1).max(500).default(100),
  })
  .strict();

const getHistory = createRoute({
  method: 'get',
  path: '/v1/instances/{id}/history',
  tags: ['instances'],
  summary: 'Applied events, oldest first (gapless sequence numbers), with the actor of each',
  security: BEARER,
  middleware: [requireRole('viewer')] as const,
  request: { params: InstanceParams, query: HistoryQuery },
  responses: {
    200: { description: 'A page of history', content: { 'application/json': { schema: z.object({ items: z.array(HistoryEntrySchema), nextCursor: z.string().nullable() }) } } },
    ...errors(403, 404),
  },
});

/** `GET /v1/instances/{id}/history`. */
export function registerHistoryRoutes(app: OpenAPIHono<ApiEnv>, deps: AppDeps): void {
  app.openapi(getHistory, async (c) => {
    const { id } = c.req.valid('param');
    const { cursor, limit } = c.req.valid('query');
    const rows = await deps.runtime.history(id, { tenant: principalOf(c).tenant, afterSeq: cursor ? Number(cursor) : 0, limit: limit + 1 });
    const page = rows.slice(0, limit);
    const nextCursor = rows.length > limit ? String(page.at(-1)!.seq) : null;
    return c.json({ items: page.map((e) => historyEntry(e, deps.redactKeys)), nextCursor }, 200);
  });
}
