import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { CORRELATE_ALL_MAX, CORRELATION_VALUE_MAX, type CorrelateResult } from '../../runtime/index.ts';
import type { AppDeps } from '../app.ts';
import { callerOf, principalOf, type ApiEnv } from '../env.ts';
import { ApiError } from '../errors.ts';
import { assertSameEvent, notAccepted } from '../event-answers.ts';
import { requireRole } from '../middleware/auth.ts';
import { BEARER, errors, IdempotencyHeaders, SendResultSchema } from '../schemas.ts';
import { sendResultBody } from '../views.ts';

const CorrelateBody = z
  .object({
    machine: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,100}$/, 'a machine id')
      .optional()
      .openapi({ description: 'Only instances of this machine (any version)', example: 'subscriber-provisioning' }),
    key: z.string().min(1).max(64).openapi({ description: 'A correlation key the machine declares', example: 'username' }),
    value: z.string().min(1).max(CORRELATION_VALUE_MAX).openapi({ example: 'ada' }),
    event: z.looseObject({ type: z.string().min(1).max(200) }).openapi({
      description: 'The event, exactly as POST /v1/instances/{id}/events takes it',
      example: { type: 'operator.resolve', reason: 'removed by hand, ticket 4711' },
    }),
    all: z
      .boolean()
      .optional()
      .openapi({ description: `Deliver to every matching instance (at most ${CORRELATE_ALL_MAX}) instead of answering 409` }),
  })
  .strict()
  .openapi('CorrelateRequest', {
    example: { machine: 'sign-up', key: 'email', value: 'ada@example.net', event: { type: 'email.verified' } },
  });

const DeliverySchema = z.union([
  SendResultSchema,
  z.object({ instanceId: z.string(), error: z.object({ code: z.string(), message: z.string() }) }).openapi('CorrelationRefusal'),
]);

const CorrelateResultSchema = z
  .object({ key: z.string(), value: z.string(), deliveries: z.array(DeliverySchema) })
  .openapi('CorrelateResult');

const correlateRoute = createRoute({
  method: 'post',
  path: '/v1/correlate',
  tags: ['instances'],
  summary: 'Send an event to the instance waiting on a business key (tenant scoped); answers after the commit',
  description:
    'Finds the caller\u2019s active instances whose correlation key (declared by the machine at registration) has this value. ' +
    'None: 404 correlation_not_found. Several without all: 409 correlation_ambiguous with details.instanceIds. One: the event ' +
    'is sent as POST /v1/instances/{id}/events sends it (same validation, roles, 409 event_not_accepted, Idempotency-Key). ' +
    'With all: true each match gets it; a refusal of one is listed in its delivery, and 409 event_not_accepted when none took it.',
  security: BEARER,
  middleware: [requireRole('operator')] as const,
  request: {
    headers: IdempotencyHeaders,
    body: { required: true, content: { 'application/json': { schema: CorrelateBody } } },
  },
  responses: {
    200: { description: 'Delivered', content: { 'application/json': { schema: CorrelateResultSchema } } },
    ...errors(400, 403, 404, 409, 413, 415, 422, 503),
  },
});

/** `POST /v1/correlate`: delivery by business key (`runtime.correlate`). */
export function registerCorrelateRoutes(app: OpenAPIHono<ApiEnv>, deps: AppDeps): void {
  const { runtime } = deps;
  app.openapi(correlateRoute, async (c) => {
    const body = c.req.valid('json');
    const idempotencyKey = c.req.valid('header')['idempotency-key'];
    const { tenant } = principalOf(c);
    const result = await runtime.correlate({ ...body, tenant, caller: callerOf(c), idempotencyKey, source: 'api' });
    await answerAsEvents(deps, tenant, body.event, idempotencyKey, result, body.all === true);
    return c.json(correlateBody(result), 200);
  });
}

/**
 * What `POST /v1/instances/{id}/events` would answer beyond the result: a repeated key with another event is a
 * 422, an event the state does not take a 409 (with `all`, only when no instance took it).
 */
export async function answerAsEvents(
  deps: Pick<AppDeps, 'runtime'>,
  tenant: string,
  event: { type: string } & Record<string, unknown>,
  idempotencyKey: string | undefined,
  result: CorrelateResult,
  all: boolean,
): Promise<void> {
  const sent = result.deliveries.filter((d) => 'handled' in d);
  for (const d of sent) if (d.duplicate && idempotencyKey) await assertSameEvent(deps.runtime, d.instanceId, tenant, idempotencyKey, event);
  if (!all) {
    const only = sent[0];
    if (only && !only.handled && !only.duplicate) await notAccepted(deps.runtime, only.instanceId, tenant, event.type, only);
    return;
  }
  if (sent.some((d) => d.handled || d.duplicate)) return;
  throw new ApiError(
    409,
    'event_not_accepted',
    `No instance waiting on ${result.key} = ${JSON.stringify(result.value)} accepts "${event.type}".`,
    {
      key: result.key,
      value: result.value,
      deliveries: correlateBody(result).deliveries,
    },
  );
}

/** The response body: send results in the `/events` shape, refusals as they are. */
export function correlateBody(result: CorrelateResult): z.infer<typeof CorrelateResultSchema> {
  return {
    key: result.key,
    value: result.value,
    deliveries: result.deliveries.map((d) => ('handled' in d ? sendResultBody(d) : d)),
  };
}
