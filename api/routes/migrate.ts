import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { AppDeps } from '../app.ts';
import { callerOf, principalOf, type ApiEnv } from '../env.ts';
import { requireRole } from '../middleware/auth.ts';
import { BEARER, errors, InstanceParams, MigrationReportSchema } from '../schemas.ts';

const MigrateBody = z
  .object({
    to: z
      .string()
      .min(1)
      .max(100)
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'a registered version of the instance\u2019s machine'),
    dryRun: z.boolean().default(true).openapi({ description: 'Report only (the default); false migrates' }),
    reason: z.string().trim().min(1).max(500).optional(),
  })
  .strict()
  .openapi('MigrateRequest', { example: { to: '2', dryRun: false, reason: 'v2 fixes the reminder timer' } });

const migrate = createRoute({
  method: 'post',
  path: '/v1/instances/{id}/migrate',
  tags: ['operations'],
  summary: 'Migrate an active instance to another registered version of its machine (dry run by default)',
  description:
    'Along the registered migrations (a function or a state map; chains are followed), or the snapshot as it is when none is ' +
    'registered. The report gives the state mapping, the context diff and which open timers and steps are kept (their state ' +
    'and invoke or delayed event still exist in the target), cancelled (closed with the reason) or planned. A real migration ' +
    'is one commit with the version check, recorded in history as statekeeper.migrated with the caller and reason. An ' +
    'instance the target cannot hold is refused and left untouched: 422 migration_state_missing, migration_context_invalid, ' +
    'migration_unresolvable, migration_failed; 409 migration_same_version, instance_not_active; 404 for an unknown version.',
  security: BEARER,
  middleware: [requireRole('operator')] as const,
  request: { params: InstanceParams, body: { required: true, content: { 'application/json': { schema: MigrateBody } } } },
  responses: {
    200: { description: 'What the migration did (or would do)', content: { 'application/json': { schema: MigrationReportSchema } } },
    ...errors(400, 403, 404, 409, 413, 415, 422, 503),
  },
});

/** `POST /v1/instances/{id}/migrate`. */
export function registerMigrateRoutes(app: OpenAPIHono<ApiEnv>, deps: AppDeps): void {
  app.openapi(migrate, async (c) => {
    const { id } = c.req.valid('param');
    const { to, dryRun, reason } = c.req.valid('json');
    const { tenant } = principalOf(c);
    const report = await deps.runtime.migrateInstance(id, { to, dryRun, reason, tenant, caller: callerOf(c) });
    // The report names the instance as the caller does (a tenant's own id, not the stored one).
    const body = { dryRun, ...report, instanceId: id };
    return c.json(body as z.infer<typeof MigrationReportSchema>, 200);
  });
}
