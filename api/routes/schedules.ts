import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { RuntimeError, type ScheduleView } from '../../runtime/index.ts';
import type { AppDeps } from '../app.ts';
import { principalOf, type ApiEnv } from '../env.ts';
import { requireRole } from '../middleware/auth.ts';
import { BEARER, errors } from '../schemas.ts';
import { redact } from '../views.ts';

const ScheduleIdSchema = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9._~-]+$/, 'letters, digits, ".", "_", "~" or "-" only')
  .openapi({ param: { name: 'id', in: 'path' }, example: 'billing-monthly' });
const ScheduleParams = z.object({ id: ScheduleIdSchema });

const ScheduleBody = z
  .object({
    id: ScheduleIdSchema,
    machine: z.string().min(1).max(210).openapi({ description: 'Machine id (newest version at each tick) or id@version' }),
    input: z
      .unknown()
      .optional()
      .openapi({
        description:
          'Start input; in strings {{tick}}, {{tick.date}}, {{tick.month}}, {{tick.previousMonth}} (in the time zone) ' +
          'and {{schedule.id}} are replaced at each tick',
      }),
    cron: z.string().min(1).max(200).openapi({ description: 'Five-field cron expression or @hourly, @daily, @weekly, @monthly…' }),
    timezone: z.string().min(1).max(100).optional().openapi({ description: 'IANA time zone (default UTC)' }),
    overlap: z.enum(['skip', 'allow', 'cancel-previous']).optional().openapi({ description: 'Default skip' }),
    catchUp: z
      .enum(['none', 'all'])
      .optional()
      .openapi({ description: 'Ticks missed while no process ran: the latest only (none, default) or all' }),
    paused: z.boolean().optional(),
  })
  .strict()
  .openapi('ScheduleRequest', {
    example: {
      id: 'billing-monthly',
      machine: 'billing-run',
      input: { period: '{{tick.previousMonth}}' },
      cron: '0 2 1 * *',
      timezone: 'Europe/Berlin',
      overlap: 'skip',
      catchUp: 'none',
    },
  });

const ScheduleSchema = z
  .object({
    id: z.string(),
    tenant: z.string(),
    machine: z.string(),
    input: z.unknown(),
    cron: z.string(),
    timezone: z.string(),
    overlap: z.enum(['skip', 'allow', 'cancel-previous']),
    catchUp: z.enum(['none', 'all']),
    paused: z.boolean(),
    origin: z
      .enum(['code', 'api'])
      .openapi({ description: 'code: declared by the server (re-declared at every start); api: made over HTTP' }),
    nextTicks: z
      .array(z.string())
      .openapi({ description: 'The next ticks (ISO-8601 UTC), the first possibly overdue; empty while paused' }),
    lastTick: z.string().nullable(),
    lastInstanceId: z.string().nullable(),
    lastOutcome: z.enum(['started', 'skipped', 'failed']).nullable(),
    lastError: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Schedule');

const TriggerResultSchema = z
  .object({ outcome: z.literal('started'), instanceId: z.string(), created: z.boolean() })
  .openapi('ScheduleTriggerResult');

const json = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { 'application/json': { schema } } });

const create = createRoute({
  method: 'post',
  path: '/v1/schedules',
  tags: ['schedules'],
  summary: 'Create a cron schedule: each tick starts one instance (Idempotency-Key schedule:{id}:{tickISO})',
  description:
    'Refused with 400 cron_invalid (unreadable or never firing expression), 400 timezone_invalid, 404 machine_not_found, ' +
    '422 input_invalid (the input made for the next tick fails the machine input schema), 409 schedule_exists.',
  security: BEARER,
  middleware: [requireRole('operator')] as const,
  request: { body: { required: true, content: { 'application/json': { schema: ScheduleBody } } } },
  responses: { 201: json(ScheduleSchema, 'The schedule with its next ticks'), ...errors(403, 404, 409, 413, 415, 422, 501, 503) },
});

const list = createRoute({
  method: 'get',
  path: '/v1/schedules',
  tags: ['schedules'],
  summary: 'The tenant’s schedules, by id',
  security: BEARER,
  middleware: [requireRole('viewer')] as const,
  responses: { 200: json(z.object({ items: z.array(ScheduleSchema) }), 'The schedules'), ...errors(403, 501, 503) },
});

const get = createRoute({
  method: 'get',
  path: '/v1/schedules/{id}',
  tags: ['schedules'],
  summary: 'A schedule, with its next five ticks and what its last tick did',
  security: BEARER,
  middleware: [requireRole('viewer')] as const,
  request: { params: ScheduleParams },
  responses: { 200: json(ScheduleSchema, 'The schedule'), ...errors(403, 404, 501, 503) },
});

const command = (action: 'pause' | 'resume', summary: string) =>
  createRoute({
    method: 'post',
    path: `/v1/schedules/{id}/${action}`,
    tags: ['schedules'],
    summary,
    security: BEARER,
    middleware: [requireRole('operator')] as const,
    request: { params: ScheduleParams },
    responses: { 200: json(ScheduleSchema, 'The schedule'), ...errors(403, 404, 501, 503) },
  });
const pause = command('pause', 'Pause: no tick runs until resumed; idempotent');
const resume = command('resume', 'Resume: the next tick is the first after now (ticks that fell while paused are not run); idempotent');

const trigger = createRoute({
  method: 'post',
  path: '/v1/schedules/{id}/trigger',
  tags: ['schedules'],
  summary: 'Run a tick now (paused or not) under the overlap policy; the next tick stays as it is',
  description: 'Under overlap skip, while the instance of the previous tick is active: 409 schedule_overlap naming it.',
  security: BEARER,
  middleware: [requireRole('operator')] as const,
  request: { params: ScheduleParams },
  responses: { 201: json(TriggerResultSchema, 'The instance the tick started'), ...errors(403, 404, 409, 501, 503) },
});

const remove = createRoute({
  method: 'delete',
  path: '/v1/schedules/{id}',
  tags: ['schedules'],
  summary: 'Delete a schedule; the instances it started stay (a schedule the server declares comes back at its next start)',
  security: BEARER,
  middleware: [requireRole('operator')] as const,
  request: { params: ScheduleParams },
  responses: { 204: { description: 'Deleted' }, ...errors(403, 404, 501, 503) },
});

/** Durable cron schedules of the caller's tenant: create, list, read, pause, resume, trigger, delete. */
export function registerScheduleRoutes(app: OpenAPIHono<ApiEnv>, deps: AppDeps): void {
  const { schedules } = deps.runtime;
  const body = (v: ScheduleView) => ({ ...v, input: redact(v.input, deps.redactKeys) }) as z.infer<typeof ScheduleSchema>;
  const tenantOf = (c: Parameters<typeof principalOf>[0]) => principalOf(c).tenant;

  app.openapi(create, async (c) => {
    const def = c.req.valid('json');
    return c.json(body(await schedules.create({ ...def, tenant: tenantOf(c) })), 201);
  });
  app.openapi(list, async (c) => c.json({ items: (await schedules.list({ tenant: tenantOf(c) })).map(body) }, 200));
  app.openapi(get, async (c) => c.json(body(await schedules.get(c.req.valid('param').id, { tenant: tenantOf(c) })), 200));
  app.openapi(pause, async (c) => c.json(body(await schedules.pause(c.req.valid('param').id, { tenant: tenantOf(c) })), 200));
  app.openapi(resume, async (c) => c.json(body(await schedules.resume(c.req.valid('param').id, { tenant: tenantOf(c) })), 200));
  app.openapi(trigger, async (c) => {
    const { id } = c.req.valid('param');
    const r = await schedules.trigger(id, { tenant: tenantOf(c) });
    if (r.outcome === 'skipped')
      throw new RuntimeError(
        'schedule_overlap',
        `Schedule "${id}" skips ticks while the instance of its previous tick runs (${r.previousInstanceId}); ` +
          'finish or cancel it first, or set the overlap policy to allow or cancel-previous.',
        { scheduleId: id, previousInstanceId: r.previousInstanceId },
      );
    return c.json(r, 201);
  });
  app.openapi(remove, async (c) => {
    await schedules.delete(c.req.valid('param').id, { tenant: tenantOf(c) });
    return c.body(null, 204);
  });
}
