import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { TaskView } from '../../runtime/index.ts';
import type { AppDeps } from '../app.ts';
import { callerOf, principalOf, type ApiEnv } from '../env.ts';
import { requireRole } from '../middleware/auth.ts';
import { BEARER, errors, IdempotencyHeaders, SendResultSchema } from '../schemas.ts';
import { sendResultBody } from '../views.ts';

/** A human task as the inbox shows it. */
export const TaskSchema = z
  .object({
    id: z.string().openapi({ description: 'instanceId:stateNodeId:generation' }),
    instanceId: z.string(),
    machine: z.string(),
    state: z.string().openapi({ description: 'Id of the state node that declares the task' }),
    title: z.string(),
    description: z.string().nullable(),
    event: z.string().openapi({ description: 'The event completing the task sends' }),
    roles: z.array(z.string()).openapi({ description: 'Callers with any of these roles may act (none: any caller of the tenant)' }),
    assignee: z.string().nullable(),
    form: z.unknown().openapi({ description: 'JSON Schema of the answer (null: any answer)' }),
    status: z.enum(['open', 'completed', 'cancelled']),
    dueAt: z.string().nullable(),
    overdue: z.boolean(),
    claimedBy: z.string().nullable(),
    claimedAt: z.string().nullable(),
    createdAt: z.string(),
    closedAt: z.string().nullable(),
    closedBy: z.string().nullable(),
  })
  .openapi('Task');

const TaskParams = z.object({
  id: z
    .string()
    .min(1)
    .max(800)
    .regex(/^[A-Za-z0-9._~:-]+$/, 'a task id')
    .openapi({ param: { name: 'id', in: 'path' }, example: 'c0ffee00-1111-4222-8333-444455556666:audit.planning.work.plan:2' }),
});

const ListQuery = z
  .object({
    role: z
      .string()
      .regex(/^[A-Za-z0-9._:-]{1,100}$/)
      .optional()
      .openapi({ description: 'Tasks requiring this role' }),
    assignee: z.string().min(1).max(200).optional().openapi({ description: 'Tasks assigned to or claimed by this caller id' }),
    machine: z.string().min(1).max(100).optional(),
    overdue: z.enum(['true', 'false']).optional().openapi({ description: 'true: past their due time only; false: the others' }),
    limit: z.coerce.number().int().min(1).max(500).default(50),
    cursor: z.string().min(1).max(1000).optional().openapi({ description: 'nextCursor of the previous page' }),
  })
  .strict();

const listTasks = createRoute({
  method: 'get',
  path: '/v1/tasks',
  tags: ['tasks'],
  summary: "Open tasks of the caller's tenant that the caller may act on (its roles, assigned or claimed to it), oldest first",
  security: BEARER,
  middleware: [requireRole('viewer')] as const,
  request: { query: ListQuery },
  responses: {
    200: {
      description: 'A page',
      content: { 'application/json': { schema: z.object({ items: z.array(TaskSchema), nextCursor: z.string().nullable() }) } },
    },
    ...errors(403),
  },
});

const getTask = createRoute({
  method: 'get',
  path: '/v1/tasks/{id}',
  tags: ['tasks'],
  summary: 'A task (open or closed)',
  security: BEARER,
  middleware: [requireRole('viewer')] as const,
  request: { params: TaskParams },
  responses: { 200: { description: 'The task', content: { 'application/json': { schema: TaskSchema } } }, ...errors(403, 404) },
});

const claimRoute = (action: 'claim' | 'unclaim') =>
  createRoute({
    method: 'post',
    path: `/v1/tasks/{id}/${action}`,
    tags: ['tasks'],
    summary: action === 'claim' ? 'Claim an open task for the caller' : 'Give back a task the caller claimed',
    security: BEARER,
    middleware: [requireRole('operator')] as const,
    request: { params: TaskParams },
    responses: { 200: { description: 'The task', content: { 'application/json': { schema: TaskSchema } } }, ...errors(403, 404, 409) },
  });

const CompleteBody = z
  .object({ answer: z.unknown().optional().openapi({ description: "The answer, checked against the task's form" }) })
  .strict()
  .openapi('TaskCompletion', { example: { answer: { approved: true, comment: 'looks complete' } } });

const completeTask = createRoute({
  method: 'post',
  path: '/v1/tasks/{id}/complete',
  tags: ['tasks'],
  summary: "Complete a task: the answer is checked against its form, then the task's event is sent ({ type, taskId, answer })",
  security: BEARER,
  middleware: [requireRole('operator')] as const,
  request: {
    params: TaskParams,
    headers: IdempotencyHeaders,
    body: { required: true, content: { 'application/json': { schema: CompleteBody } } },
  },
  responses: {
    200: {
      description: 'Completed: the task and the committed state',
      content: { 'application/json': { schema: z.object({ task: TaskSchema, result: SendResultSchema }).openapi('TaskCompleted') } },
    },
    ...errors(403, 404, 409, 413, 415, 422, 503),
  },
});

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** A task's response body. */
export function taskBody(t: TaskView): z.infer<typeof TaskSchema> {
  return {
    id: t.id,
    instanceId: t.instanceId,
    machine: t.machineId,
    state: t.state,
    title: t.title,
    description: t.description,
    event: t.event,
    roles: [...t.roles],
    assignee: t.assignee,
    form: t.form,
    status: t.status,
    dueAt: iso(t.dueAt),
    overdue: t.overdue,
    claimedBy: t.claimedBy,
    claimedAt: iso(t.claimedAt),
    createdAt: iso(t.createdAt)!,
    closedAt: iso(t.closedAt),
    closedBy: t.closedBy,
  };
}

/** The human-task inbox: list, get, claim, unclaim, complete. */
export function registerTaskRoutes(app: OpenAPIHono<ApiEnv>, deps: AppDeps): void {
  const { runtime } = deps;
  const scope = (c: Parameters<typeof principalOf>[0]) => {
    const caller = callerOf(c);
    return { tenant: principalOf(c).tenant, caller: { id: caller.id, roles: caller.roles ?? [] } };
  };

  app.openapi(listTasks, async (c) => {
    const q = c.req.valid('query');
    const page = await runtime.tasks.list({
      ...scope(c),
      role: q.role,
      assignee: q.assignee,
      machineId: q.machine,
      overdue: q.overdue === undefined ? undefined : q.overdue === 'true',
      limit: q.limit,
      cursor: q.cursor,
    });
    return c.json({ items: page.items.map(taskBody), nextCursor: page.nextCursor }, 200);
  });

  app.openapi(getTask, async (c) => c.json(taskBody(await runtime.tasks.get(c.req.valid('param').id, scope(c))), 200));

  app.openapi(claimRoute('claim'), async (c) => c.json(taskBody(await runtime.tasks.claim(c.req.valid('param').id, scope(c))), 200));

  app.openapi(claimRoute('unclaim'), async (c) => c.json(taskBody(await runtime.tasks.unclaim(c.req.valid('param').id, scope(c))), 200));

  app.openapi(completeTask, async (c) => {
    const { id } = c.req.valid('param');
    const { answer } = c.req.valid('json');
    const idempotencyKey = c.req.valid('header')['idempotency-key'];
    const { task, result } = await runtime.tasks.complete(id, answer, { ...scope(c), idempotencyKey });
    return c.json({ task: taskBody(task), result: sendResultBody(result) }, 200);
  });
}
