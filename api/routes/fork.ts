import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { AppDeps } from '../app.ts';
import { callerOf, principalOf, type ApiEnv } from '../env.ts';
import { requireRole } from '../middleware/auth.ts';
import { BEARER, errors, InstanceParams, InstanceSchema } from '../schemas.ts';
import { instanceBody } from '../views.ts';

const ForkQuery = z.object({
  seq: z
    .string()
    .regex(/^[1-9][0-9]{0,9}$/, 'a history entry: a positive integer')
    .transform(Number)
    .openapi({ param: { name: 'seq', in: 'query' }, type: 'integer', example: '9', description: 'The history entry to fork from' }),
});

const ForkBody = z
  .object({ reason: z.string().trim().min(1).max(500).optional() })
  .strict()
  .openapi('ForkRequest', { example: { reason: 'ONU vendor outage over; go on from the ONU activation' } });

const fork = createRoute({
  method: 'post',
  path: '/v1/instances/{id}/fork',
  tags: ['operations'],
  summary: 'Fork: a new instance in the state the original was in after history entry seq, linked by forkOf; any status',
  description:
    'Steps completed up to the entry are not run again (their results are in history); steps, child instances and timers open ' +
    'after it are planned again under the fork, so its steps run under new idempotency keys. Both histories record the fork ' +
    '(statekeeper.fork, statekeeper.forked) with the caller and the reason. An original started under an Idempotency-Key gives ' +
    'the fork "<key>#fork-<n>". 400 invalid_seq when seq is not an entry of the instance, 409 instance_not_active when the ' +
    'instance had ended by then, 409 fork_replay_mismatch when the registered machine no longer reproduces the history; a child ' +
    'instance is forked with its parent (400).',
  security: BEARER,
  middleware: [requireRole('operator')] as const,
  request: {
    params: InstanceParams,
    query: ForkQuery,
    body: { required: false, content: { 'application/json': { schema: ForkBody } } },
  },
  responses: {
    201: { description: 'The fork', content: { 'application/json': { schema: InstanceSchema } } },
    ...errors(400, 403, 404, 409, 413, 415, 503),
  },
});

/** `POST /v1/instances/{id}/fork?seq=N`: an operator forks an instance from one of its history entries. */
export function registerForkRoutes(app: OpenAPIHono<ApiEnv>, deps: AppDeps): void {
  const { runtime } = deps;
  app.openapi(fork, async (c) => {
    const { id } = c.req.valid('param');
    const { seq } = c.req.valid('query');
    const { reason } = c.req.valid('json') ?? {};
    const { tenant } = principalOf(c);
    const created = await runtime.forkInstance(id, { seq, tenant, caller: callerOf(c), reason });
    return c.json(instanceBody(await runtime.describe(created.id, { tenant }), deps.redactKeys), 201);
  });
}
