import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { BULK_ACTION_NAMES, isStorableDate, type BulkFilter, type BulkJobView } from '../../runtime/index.ts';
import type { AppDeps } from '../app.ts';
import { callerOf, principalOf, type ApiEnv } from '../env.ts';
import { requireRole } from '../middleware/auth.ts';
import { BEARER, errors, StatusSchema } from '../schemas.ts';

const datetime = z.iso.datetime({ offset: true }).refine((s) => isStorableDate(new Date(s)), 'a date from year 1 to 9999');
const ActionSchema = z.enum(BULK_ACTION_NAMES as [string, ...string[]]).openapi({ example: 'cancel' });

const FilterSchema = z
  .object({
    machine: z.string().min(1).max(100).optional(),
    version: z.string().min(1).max(100).optional(),
    status: z.array(StatusSchema).min(1).max(4).optional(),
    state: z.string().min(1).max(200).optional().openapi({ description: 'Top-level state name or tag (as in GET /v1/instances)' }),
    parent: z.string().min(1).max(600).optional().openapi({ description: 'Parent instance id (child instances)' }),
    createdAfter: datetime.optional(),
    createdBefore: datetime.optional(),
    updatedAfter: datetime.optional(),
    updatedBefore: datetime.optional(),
    stateValue: z
      .unknown()
      .optional()
      .openapi({ description: 'The whole state value, exactly', example: { running: 'onuActivation' } }),
    context: z
      .record(z.string(), z.unknown())
      .optional()
      .openapi({
        description: 'Context fields by dot path, each equal to the JSON value given',
        example: { 'input.subscriber.plan': 'standard' },
      }),
  })
  .strict()
  .openapi('BulkFilter');

const BulkBody = z
  .object({
    action: ActionSchema,
    filter: FilterSchema,
    to: z
      .string()
      .min(1)
      .max(100)
      .optional()
      .openapi({ description: 'migrate: the registered version of the machine to move the instances to' }),
    dryRun: z.boolean().default(true).openapi({ description: 'Only count what the filter matches (the default): false runs the job' }),
    reason: z.string().trim().min(1).max(500).optional(),
  })
  .strict()
  .openapi('BulkRequest', {
    example: {
      action: 'cancel',
      filter: { machine: 'subscriber-provisioning', status: ['active'] },
      dryRun: true,
      reason: 'plan withdrawn',
    },
  });

const PreviewSchema = z
  .object({ dryRun: z.literal(true), action: ActionSchema, count: z.number().int(), sample: z.array(z.string()) })
  .openapi('BulkPreview');

const JobSchema = z
  .object({
    id: z.string(),
    action: ActionSchema,
    filter: FilterSchema,
    to: z.string().nullable().openapi({ description: 'migrate: the version instances are moved to' }),
    reason: z.string().nullable(),
    actor: z.string().nullable(),
    status: z.enum(['running', 'completed', 'cancelled']),
    total: z.number().int().openapi({ description: 'Instances the filter matched when the job was created' }),
    progress: z.object({ done: z.number().int(), failed: z.number().int(), skipped: z.number().int() }),
    failures: z
      .array(z.object({ instanceId: z.string(), code: z.string(), message: z.string() }))
      .openapi({ description: 'The first 1,000 failures with their error codes' }),
    cancelledBy: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
    finishedAt: z.string().nullable(),
  })
  .openapi('BulkJob');

const JobParams = z.object({
  jobId: z
    .string()
    .regex(/^[0-9a-f-]{36}$/, 'a job id')
    .openapi({ param: { name: 'jobId', in: 'path' }, example: 'c0ffee00-1111-4222-8333-444455556666' }),
});

const startBulk = createRoute({
  method: 'post',
  path: '/v1/bulk',
  tags: ['operations'],
  summary: 'Bulk action by filter: a dry run (default) counts the matches; dryRun false starts a durable job (202)',
  description:
    'Actions: cancel, retry, pause, resume, restart, migrate (with "to": the version), each applied per instance as the ' +
    'single-instance command (its own commit), in id order, a batch at a time; progress survives restarts and the job ' +
    'goes on after its cursor. An instance the action does not apply to is skipped; a refusal is a failure with its error ' +
    'code in the report.',
  security: BEARER,
  middleware: [requireRole('operator')] as const,
  request: { body: { required: true, content: { 'application/json': { schema: BulkBody } } } },
  responses: {
    200: { description: 'Dry run: the count and a sample of ids', content: { 'application/json': { schema: PreviewSchema } } },
    202: { description: 'The job, started', content: { 'application/json': { schema: JobSchema } } },
    ...errors(403, 413, 415, 503),
  },
});

const listJobs = createRoute({
  method: 'get',
  path: '/v1/bulk',
  tags: ['operations'],
  summary: "The tenant's bulk jobs, newest first",
  security: BEARER,
  middleware: [requireRole('viewer')] as const,
  request: {
    query: z.object({ limit: z.coerce.number().int().min(1).max(500).default(50), cursor: z.string().min(1).max(500).optional() }).strict(),
  },
  responses: {
    200: {
      description: 'A page',
      content: { 'application/json': { schema: z.object({ items: z.array(JobSchema), nextCursor: z.string().nullable() }) } },
    },
    ...errors(403, 503),
  },
});

const getJob = createRoute({
  method: 'get',
  path: '/v1/bulk/{jobId}',
  tags: ['operations'],
  summary: 'A bulk job: status, progress counts and the report of failures',
  security: BEARER,
  middleware: [requireRole('viewer')] as const,
  request: { params: JobParams },
  responses: { 200: { description: 'The job', content: { 'application/json': { schema: JobSchema } } }, ...errors(403, 404, 503) },
});

const cancelJob = createRoute({
  method: 'post',
  path: '/v1/bulk/{jobId}/cancel',
  tags: ['operations'],
  summary: 'Cancel a bulk job: no batch starts after this (the batch in hand finishes and is counted); idempotent',
  security: BEARER,
  middleware: [requireRole('operator')] as const,
  request: { params: JobParams },
  responses: { 200: { description: 'The job', content: { 'application/json': { schema: JobSchema } } }, ...errors(403, 404, 503) },
});

type ApiFilter = z.infer<typeof FilterSchema>;

const date = (s: string | undefined) => (s ? new Date(s) : undefined);

/** The API's filter (the list's parameter names) as the runtime's. */
function runtimeFilter(f: ApiFilter): BulkFilter {
  const out: BulkFilter = {
    machineId: f.machine,
    machineVersion: f.version,
    status: f.status,
    state: f.state,
    parentId: f.parent,
    createdAfter: date(f.createdAfter),
    createdBefore: date(f.createdBefore),
    updatedAfter: date(f.updatedAfter),
    updatedBefore: date(f.updatedBefore),
    stateValue: f.stateValue,
    context: f.context,
  };
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined)) as BulkFilter;
}

function apiFilter(f: BulkFilter): ApiFilter {
  const out: ApiFilter = {
    machine: f.machineId,
    version: f.machineVersion,
    status: f.status,
    state: f.state,
    parent: f.parentId,
    createdAfter: f.createdAfter?.toISOString(),
    createdBefore: f.createdBefore?.toISOString(),
    updatedAfter: f.updatedAfter?.toISOString(),
    updatedBefore: f.updatedBefore?.toISOString(),
    stateValue: f.stateValue,
    context: f.context,
  };
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined)) as ApiFilter;
}

function jobBody(j: BulkJobView): z.infer<typeof JobSchema> {
  return {
    id: j.id,
    action: j.action,
    filter: apiFilter(j.filter),
    to: j.params.to ?? null,
    reason: j.reason,
    actor: j.actor,
    status: j.status,
    total: j.total,
    progress: { done: j.done, failed: j.failed, skipped: j.skipped },
    failures: j.failures,
    cancelledBy: j.cancelledBy,
    createdAt: j.createdAt.toISOString(),
    updatedAt: j.updatedAt.toISOString(),
    finishedAt: j.finishedAt?.toISOString() ?? null,
  };
}

/** Bulk actions: `POST /v1/bulk` (dry run or job), `GET /v1/bulk[/{jobId}]`, `POST /v1/bulk/{jobId}/cancel`. */
export function registerBulkRoutes(app: OpenAPIHono<ApiEnv>, deps: AppDeps): void {
  const { runtime } = deps;

  app.openapi(startBulk, async (c) => {
    const body = c.req.valid('json');
    const req = {
      action: body.action as BulkJobView['action'],
      filter: runtimeFilter(body.filter),
      params: body.to === undefined ? undefined : { to: body.to },
      tenant: principalOf(c).tenant,
      caller: callerOf(c),
      reason: body.reason,
    };
    if (body.dryRun) return c.json({ dryRun: true as const, ...(await runtime.bulk.preview(req)) }, 200);
    const job = await runtime.bulk.start(req);
    c.header('Location', `/v1/bulk/${job.id}`);
    return c.json(jobBody(job), 202);
  });

  app.openapi(listJobs, async (c) => {
    const { limit, cursor } = c.req.valid('query');
    const page = await runtime.bulk.list(principalOf(c).tenant, { limit, cursor });
    return c.json({ items: page.items.map(jobBody), nextCursor: page.nextCursor }, 200);
  });

  app.openapi(getJob, async (c) => {
    return c.json(jobBody(await runtime.bulk.get(c.req.valid('param').jobId, principalOf(c).tenant)), 200);
  });

  app.openapi(cancelJob, async (c) => {
    return c.json(jobBody(await runtime.bulk.cancel(c.req.valid('param').jobId, principalOf(c).tenant, callerOf(c))), 200);
  });
}
