import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { AppDeps } from '../app.ts';
import { principalOf, type ApiEnv } from '../env.ts';
import { requireRole } from '../middleware/auth.ts';
import { BEARER, errors } from '../schemas.ts';

const CountsSchema = z
  .object({
    instances: z.number().int(),
    events: z.number().int(),
    effects: z.number().int(),
    outbox: z.number().int(),
    tasks: z.number().int(),
    checkpoints: z.number().int(),
  })
  .openapi('RetentionCounts');

const ReportSchema = z
  .object({
    dryRun: z.boolean(),
    tenant: z.string().nullable(),
    rules: z.array(
      z.object({
        machines: z.array(z.string()).nullable().openapi({ description: 'null: every machine without a policy of its own' }),
        days: z.number().int(),
        mode: z.enum(['delete', 'archive']),
        before: z.string().openapi({ description: 'Instances last changed before this were taken' }),
        counts: CountsSchema,
        batches: z.number().int(),
      }),
    ),
    totals: CountsSchema,
    batches: z.number().int().openapi({ description: 'Transactions used (0 for a dry run)' }),
  })
  .openapi('RetentionReport');

const run = createRoute({
  method: 'post',
  path: '/v1/retention/run',
  tags: ['operations'],
  summary: 'Run retention now for the caller’s tenant: finished instances past their machine’s policy are deleted or archived',
  description:
    'Instances done, error or stopped whose last change is older than their policy go with their history, effects, outbox ' +
    'rows, tasks and checkpoints, in batches of one transaction each. Never an active or paused instance, a child whose ' +
    'parent is active, or one with an outbox delivery pending. With dryRun=true the rows are only counted.',
  security: BEARER,
  middleware: [requireRole('operator')] as const,
  request: {
    query: z.object({
      dryRun: z
        .enum(['true', 'false'])
        .optional()
        .openapi({ param: { name: 'dryRun', in: 'query' }, description: 'Count only, change nothing' }),
    }),
  },
  responses: {
    200: { description: 'What was (or would be) removed, by rule', content: { 'application/json': { schema: ReportSchema } } },
    ...errors(403, 501, 503),
  },
});

/** `POST /v1/retention/run`: retention on demand, scoped to the caller's tenant. */
export function registerRetentionRoutes(app: OpenAPIHono<ApiEnv>, deps: AppDeps): void {
  app.openapi(run, async (c) => {
    const dryRun = c.req.valid('query').dryRun === 'true';
    return c.json(await deps.runtime.retention.run({ tenant: principalOf(c).tenant, dryRun }), 200);
  });
}
