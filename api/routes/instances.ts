import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { badString, decodeCursor, isStorableDate } from '../../runtime/index.ts';
import type { AppDeps } from '../app.ts';
import { callerOf, principalOf, type ApiEnv } from '../env.ts';
import { ApiError } from '../errors.ts';
import { requireRole } from '../middleware/auth.ts';
import {
  BEARER,
  errors,
  IdempotencyHeaders,
  InstanceParams,
  InstanceSchema,
  InstanceSummarySchema,
  MachineParams,
  StartedInstanceSchema,
} from '../schemas.ts';
import { instanceBody, summaryBody } from '../views.ts';
import { MAX_WAIT_MS, waitUntilSettled } from '../instance-reads.ts';
import { phaseProgress } from '../phase-progress.ts';

const StartBody = z
  .object({
    input: z
      .unknown()
      .optional()
      .openapi({ description: "The machine's input (checked against its input schema when it declares one)", example: { name: 'Ada' } }),
    instanceId: z
      .string()
      .min(1)
      .max(200)
      .regex(/^[A-Za-z0-9._~-]+$/, 'letters, digits, ".", "_", "~" or "-" only')
      .optional()
      .openapi({ description: 'Chosen instance id (default: a random UUID)' }),
  })
  .strict()
  .openapi('StartRequest', { example: { input: { name: 'Ada' } } });

const StartQuery = z
  .object({
    wait: z
      .enum(['settled'])
      .optional()
      .openapi({ description: 'Answer once the instance waits for an event or a timer, or has finished' }),
    timeoutMs: z.coerce
      .number()
      .int()
      .min(0)
      .max(MAX_WAIT_MS)
      .default(10_000)
      .openapi({ description: `Longest wait with wait=settled (at most ${MAX_WAIT_MS})` }),
  })
  .strict();

const startInstance = createRoute({
  method: 'post',
  path: '/v1/machines/{id}/instances',
  tags: ['instances'],
  summary: 'Start an instance (idempotent with Idempotency-Key)',
  security: BEARER,
  middleware: [requireRole('operator')] as const,
  request: {
    params: MachineParams,
    headers: IdempotencyHeaders,
    query: StartQuery,
    body: { required: true, content: { 'application/json': { schema: StartBody } } },
  },
  responses: {
    201: { description: 'Started', content: { 'application/json': { schema: StartedInstanceSchema } } },
    200: {
      description: 'The instance this idempotency key already started',
      content: { 'application/json': { schema: StartedInstanceSchema } },
    },
    ...errors(403, 404, 409, 413, 415, 422, 503),
  },
});

const STATUS_LIST = /^(active|done|error|stopped)(,(active|done|error|stopped))*$/;
const plainId = z
  .string()
  .min(1)
  .max(600)
  .regex(/^[A-Za-z0-9._~:-]+$/);
const datetime = z.iso.datetime({ offset: true }).refine((s) => isStorableDate(new Date(s)), 'a date from year 1 to 9999');

/**
 * A cursor whose position Postgres can compare: a date from year 1 to 9999 and
 * a plain id. One that does not decode at all is left to the runtime
 * (`invalid_argument`).
 */
function isStorableCursor(cursor: string): boolean {
  let position: { createdAt: Date; id: string };
  try {
    position = decodeCursor(cursor);
  } catch {
    return true;
  }
  return isStorableDate(position.createdAt) && badString(position.id) === undefined;
}

const ListQuery = z
  .object({
    machine: z.string().min(1).max(100).optional(),
    version: z.string().min(1).max(100).optional(),
    status: z.string().regex(STATUS_LIST, 'comma-separated statuses: active, done, error, stopped').optional(),
    state: z.string().min(1).max(200).optional().openapi({ description: 'Top-level state name or tag' }),
    parent: plainId.optional().openapi({ description: 'Parent instance id (child instances)' }),
    createdAfter: datetime.optional(),
    createdBefore: datetime.optional(),
    updatedAfter: datetime.optional(),
    updatedBefore: datetime.optional(),
    limit: z.coerce.number().int().min(1).max(500).default(50),
    cursor: z
      .string()
      .min(1)
      .max(500)
      .refine(isStorableCursor, 'not a cursor this server returned')
      .optional()
      .openapi({ description: 'nextCursor of the previous page' }),
  })
  .strict();

const listInstances = createRoute({
  method: 'get',
  path: '/v1/instances',
  tags: ['instances'],
  summary: "The tenant's instances, newest first, with filters and cursor pagination",
  security: BEARER,
  middleware: [requireRole('viewer')] as const,
  request: { query: ListQuery },
  responses: {
    200: {
      description: 'A page',
      content: { 'application/json': { schema: z.object({ items: z.array(InstanceSummarySchema), nextCursor: z.string().nullable() }) } },
    },
    ...errors(403),
  },
});

const getInstance = createRoute({
  method: 'get',
  path: '/v1/instances/{id}',
  tags: ['instances'],
  summary: 'An instance: state, redacted context, accepted events, steps, children, timers',
  security: BEARER,
  middleware: [requireRole('viewer')] as const,
  request: { params: InstanceParams },
  responses: {
    200: { description: 'The instance', content: { 'application/json': { schema: InstanceSchema } } },
    ...errors(403, 404, 409),
  },
});

const date = (s: string | undefined) => (s ? new Date(s) : undefined);

/** Start, list and get instances. */
export function registerInstanceRoutes(app: OpenAPIHono<ApiEnv>, deps: AppDeps): void {
  const { runtime } = deps;

  app.openapi(startInstance, async (c) => {
    const { id: ref } = c.req.valid('param');
    const body = c.req.valid('json');
    const query = c.req.valid('query');
    const idempotencyKey = c.req.valid('header')['idempotency-key'];
    const { tenant } = principalOf(c);
    const reg = runtime.registry.resolve(ref);
    const started = await runtime.start({
      machine: reg.ref,
      input: body.input,
      instanceId: body.instanceId,
      idempotencyKey,
      tenant,
      caller: callerOf(c),
    });
    if (!started.created && body.instanceId !== undefined && started.id !== body.instanceId) {
      throw new ApiError(
        422,
        'idempotency_conflict',
        `Idempotency key "${idempotencyKey}" already started instance "${started.id}", not "${body.instanceId}".`,
        { instanceId: started.id },
      );
    }
    const { details, settled } =
      query.wait === 'settled'
        ? await waitUntilSettled(runtime, started.id, tenant, query.timeoutMs)
        : { details: await runtime.describe(started.id, { tenant }), settled: undefined };
    c.header('Location', `/v1/instances/${encodeURIComponent(started.id)}`);
    const out = { ...instanceBody(details, deps.redactKeys), created: started.created, ...(settled === undefined ? {} : { settled }) };
    return started.created ? c.json(out, 201) : c.json(out, 200);
  });

  app.openapi(listInstances, async (c) => {
    const q = c.req.valid('query');
    const page = await runtime.list({
      tenant: principalOf(c).tenant,
      machineId: q.machine,
      machineVersion: q.version,
      status: q.status?.split(',') as ('active' | 'done' | 'error' | 'stopped')[] | undefined,
      state: q.state,
      parentId: q.parent,
      createdAfter: date(q.createdAfter),
      createdBefore: date(q.createdBefore),
      updatedAfter: date(q.updatedAfter),
      updatedBefore: date(q.updatedBefore),
      limit: q.limit,
      cursor: q.cursor,
    });
    return c.json({ items: page.items.map(summaryBody), nextCursor: page.nextCursor }, 200);
  });

  app.openapi(getInstance, async (c) => {
    const { id } = c.req.valid('param');
    const details = await runtime.describe(id, { tenant: principalOf(c).tenant });
    const machine = runtime.registry.find(details.machine.id, details.machine.version)?.machine;
    return c.json(instanceBody(details, deps.redactKeys, phaseProgress(details, machine)), 200);
  });
}
