import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { AppDeps } from '../app.ts';
import { principalOf, type ApiEnv } from '../env.ts';
import { requireRole } from '../middleware/auth.ts';
import { BEARER, errors, HistoryEntrySchema, InstanceParams } from '../schemas.ts';
import { historyEntry } from '../views.ts';
import { ApiError } from '../errors.ts';
import { RuntimeError } from '../../runtime/index.ts';

const VerificationSchema = z
  .object({
    ok: z.boolean(),
    events: z.number().int(),
    unchainedPrefix: z.number().int().openapi({ description: 'Rows written before the chain existed (not verifiable)' }),
    checkpoints: z.number().int().openapi({ description: 'Signed checkpoints checked' }),
    firstBreak: z.object({ seq: z.number().int(), reason: z.string(), message: z.string() }).nullable().openapi({
      description: 'The first broken link: gap, hash_mismatch, prev_mismatch, unchained, missing_tail, checkpoint_mismatch, bad_signature',
    }),
  })
  .openapi('HistoryVerification');

const HistoryQuery = z
  .object({
    cursor: z
      .string()
      .regex(/^\d{1,10}$/, 'a nextCursor returned by this endpoint')
      .optional()
      .openapi({ description: 'Entries after this sequence number (nextCursor of the previous page)' }),
    limit: z.coerce.number().int().min(1).max(500).default(100),
    verify: z
      .enum(['true', 'false'])
      .optional()
      .openapi({ description: 'Also check the whole history\u2019s hash chain and signed checkpoints' }),
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
    200: {
      description: 'A page of history; with `verify=true` also the result of checking the chain',
      content: {
        'application/json': {
          schema: z.object({
            items: z.array(HistoryEntrySchema),
            nextCursor: z.string().nullable(),
            verification: VerificationSchema.optional(),
          }),
        },
      },
    },
    ...errors(403, 404, 501),
  },
});

/** `GET /v1/instances/{id}/history`. */
export function registerHistoryRoutes(app: OpenAPIHono<ApiEnv>, deps: AppDeps): void {
  app.openapi(getHistory, async (c) => {
    const { id } = c.req.valid('param');
    const { cursor, limit, verify } = c.req.valid('query');
    const tenant = principalOf(c).tenant;
    const rows = await deps.runtime.history(id, { tenant, afterSeq: cursor ? Number(cursor) : 0, limit: limit + 1 });
    const page = rows.slice(0, limit);
    const nextCursor = rows.length > limit ? String(page.at(-1)!.seq) : null;
    const items = page.map((e) => historyEntry(e, deps.redactKeys));
    if (verify !== 'true') return c.json({ items, nextCursor }, 200);
    if (!deps.verifyHistory) {
      throw new ApiError(501, 'verification_unavailable', 'This server keeps no history hash chain (it needs the PostgreSQL store).');
    }
    // runtime.history above already answered 404 for an instance of another tenant.
    const result = await deps.verifyHistory(await deps.runtime.storedIdOf(id, { tenant }));
    if (!result) throw RuntimeError.instanceNotFound(id);
    const { ok, events, unchainedPrefix, checkpoints, firstBreak } = result;
    return c.json({ items, nextCursor, verification: { ok, events, unchainedPrefix, checkpoints, firstBreak } }, 200);
  });
}
