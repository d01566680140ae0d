import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { AppDeps } from '../app.ts';
import { callerOf, principalOf, type ApiEnv } from '../env.ts';
import { assertSameEvent, notAccepted } from '../event-answers.ts';
import { requireRole } from '../middleware/auth.ts';
import { BEARER, errors, IdempotencyHeaders, InstanceParams, InstanceSchema, SendResultSchema } from '../schemas.ts';
import { instanceBody, sendResultBody } from '../views.ts';

const EventBody = z.looseObject({ type: z.string().min(1).max(200).openapi({ example: 'greeting.confirm' }) }).openapi('Event', {
  description: 'The event: its type and any payload fields',
  example: { type: 'operator.resolve', reason: 'refunded by hand, ticket 4711' },
});

const sendEvent = createRoute({
  method: 'post',
  path: '/v1/instances/{id}/events',
  tags: ['instances'],
  summary: 'Send an event; answers after the commit (idempotent with Idempotency-Key)',
  security: BEARER,
  middleware: [requireRole('operator')] as const,
  request: {
    params: InstanceParams,
    headers: IdempotencyHeaders,
    body: { required: true, content: { 'application/json': { schema: EventBody } } },
  },
  responses: {
    200: {
      description: 'Applied (or already applied under this idempotency key)',
      content: { 'application/json': { schema: SendResultSchema } },
    },
    ...errors(403, 404, 409, 413, 415, 422, 503),
  },
});

const RetryBody = z.object({}).strict().openapi('RetryRequest', { example: {} });
const retry = createRoute({
  method: 'post',
  path: '/v1/instances/{id}/retry',
  tags: ['operations'],
  summary:
    'Retry a failed step or compensation (sends operator.retry when the state accepts it), or bring back an instance in error ' +
    '(restored with the newest registered version, the failed event applied again); otherwise changes nothing',
  security: BEARER,
  middleware: [requireRole('operator')] as const,
  request: {
    params: InstanceParams,
    headers: IdempotencyHeaders,
    body: { required: false, content: { 'application/json': { schema: RetryBody } } },
  },
  responses: {
    200: { description: 'handled is false when there was nothing to retry', content: { 'application/json': { schema: SendResultSchema } } },
    ...errors(403, 404, 409, 413, 415, 503),
  },
});

const CancelBody = z
  .object({ reason: z.string().min(1).max(500).optional() })
  .strict()
  .openapi('CancelRequest', { example: { reason: 'the customer withdrew the order' } });
const cancel = createRoute({
  method: 'post',
  path: '/v1/instances/{id}/cancel',
  tags: ['operations'],
  summary: 'Cancel: workflow.cancel when the machine defines it (sagas compensate), else stop; idempotent',
  security: BEARER,
  middleware: [requireRole('operator')] as const,
  request: {
    params: InstanceParams,
    headers: IdempotencyHeaders,
    body: { required: false, content: { 'application/json': { schema: CancelBody } } },
  },
  responses: {
    200: { description: 'The instance after cancellation', content: { 'application/json': { schema: InstanceSchema } } },
    ...errors(403, 404, 409, 413, 415, 503),
  },
});

const PauseBody = z
  .object({ reason: z.string().trim().min(1).max(500).optional() })
  .strict()
  .openapi('PauseRequest', { example: { reason: 'ONU vendor maintenance until 06:00' } });
const pause = createRoute({
  method: 'post',
  path: '/v1/instances/{id}/pause',
  tags: ['operations'],
  summary: 'Pause: nothing of the instance is dispatched and events are refused (409 instance_paused) until resumed; idempotent',
  description:
    'Recorded in history as statekeeper.pause with the caller and reason; survives restarts. Steps already running finish and ' +
    'their results are applied (what they plan waits). Timers and deliveries that come due are held and dispatched on resume, ' +
    'in due order. An instance that is not active is refused with 409 instance_not_active.',
  security: BEARER,
  middleware: [requireRole('operator')] as const,
  request: { params: InstanceParams, body: { required: false, content: { 'application/json': { schema: PauseBody } } } },
  responses: {
    200: { description: 'The paused instance', content: { 'application/json': { schema: InstanceSchema } } },
    ...errors(400, 403, 404, 409, 413, 415, 503),
  },
});
const resume = createRoute({
  method: 'post',
  path: '/v1/instances/{id}/resume',
  tags: ['operations'],
  summary: 'Resume a paused instance: what came due while paused is dispatched, in due order; idempotent',
  description: 'Recorded in history as statekeeper.resume with the caller and reason.',
  security: BEARER,
  middleware: [requireRole('operator')] as const,
  request: { params: InstanceParams, body: { required: false, content: { 'application/json': { schema: PauseBody } } } },
  responses: {
    200: { description: 'The resumed instance', content: { 'application/json': { schema: InstanceSchema } } },
    ...errors(400, 403, 404, 409, 413, 415, 503),
  },
});

const restart = createRoute({
  method: 'post',
  path: '/v1/instances/{id}/restart',
  tags: ['operations'],
  summary: 'Restart: a fresh instance of the same machine version with the same input, linked by restartOf; any status',
  description:
    'The original is left as it is; its history records statekeeper.restarted with the caller, the reason and the new id. ' +
    'An original started under an Idempotency-Key gives the new instance the key "<key>#restart-<n>" (the first n free): ' +
    'a start repeated with the original key still answers with the original. A child instance is restarted with its parent (400).',
  security: BEARER,
  middleware: [requireRole('operator')] as const,
  request: { params: InstanceParams, body: { required: false, content: { 'application/json': { schema: PauseBody } } } },
  responses: {
    201: { description: 'The new instance', content: { 'application/json': { schema: InstanceSchema } } },
    ...errors(400, 403, 404, 409, 413, 415, 503),
  },
});

/** Events, retry, cancel, pause, resume and restart: everything that changes an existing instance. */
export function registerCommandRoutes(app: OpenAPIHono<ApiEnv>, deps: AppDeps): void {
  const { runtime } = deps;

  app.openapi(sendEvent, async (c) => {
    const { id } = c.req.valid('param');
    const event = c.req.valid('json');
    const idempotencyKey = c.req.valid('header')['idempotency-key'];
    const { tenant } = principalOf(c);
    const result = await runtime.send(id, event, { tenant, caller: callerOf(c), idempotencyKey, source: 'api' });
    if (result.duplicate && idempotencyKey) await assertSameEvent(runtime, id, tenant, idempotencyKey, event);
    else if (!result.handled) await notAccepted(runtime, id, tenant, event.type, result);
    return c.json(sendResultBody(result), 200);
  });

  app.openapi(retry, async (c) => {
    const { id } = c.req.valid('param');
    const idempotencyKey = c.req.valid('header')['idempotency-key'];
    const result = await runtime.retry(id, { tenant: principalOf(c).tenant, caller: callerOf(c), idempotencyKey });
    return c.json(sendResultBody(result), 200);
  });

  app.openapi(cancel, async (c) => {
    const { id } = c.req.valid('param');
    const { reason } = c.req.valid('json');
    const idempotencyKey = c.req.valid('header')['idempotency-key'];
    const { tenant } = principalOf(c);
    await runtime.cancel(id, { tenant, caller: callerOf(c), idempotencyKey, reason });
    return c.json(instanceBody(await runtime.describe(id, { tenant }), deps.redactKeys), 200);
  });

  app.openapi(pause, async (c) => {
    const { id } = c.req.valid('param');
    const { reason } = c.req.valid('json') ?? {};
    const { tenant } = principalOf(c);
    await runtime.pauseInstance(id, { tenant, caller: callerOf(c), reason });
    return c.json(instanceBody(await runtime.describe(id, { tenant }), deps.redactKeys), 200);
  });

  app.openapi(restart, async (c) => {
    const { id } = c.req.valid('param');
    const { reason } = c.req.valid('json') ?? {};
    const { tenant } = principalOf(c);
    const created = await runtime.restartInstance(id, { tenant, caller: callerOf(c), reason });
    return c.json(instanceBody(await runtime.describe(created.id, { tenant }), deps.redactKeys), 201);
  });

  app.openapi(resume, async (c) => {
    const { id } = c.req.valid('param');
    const { reason } = c.req.valid('json') ?? {};
    const { tenant } = principalOf(c);
    await runtime.resumeInstance(id, { tenant, caller: callerOf(c), reason });
    return c.json(instanceBody(await runtime.describe(id, { tenant }), deps.redactKeys), 200);
  });
}
