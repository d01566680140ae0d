import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { SubscriptionView } from '../../runtime/index.ts';
import type { AppDeps } from '../app.ts';
import { principalOf, type ApiEnv } from '../env.ts';
import { requireRole } from '../middleware/auth.ts';
import { BEARER, errors } from '../schemas.ts';

/** A webhook subscription as the API shows it: never its secret. */
export const SubscriptionSchema = z
  .object({
    id: z.string().openapi({ example: 'sub_5f0c3d9e8a7b4c2d1e0f9a8b7c6d5e4f' }),
    url: z.string(),
    eventTypes: z.array(z.string()).openapi({ description: '"*", exact types, or prefixes ending in ".*"' }),
    description: z.string().nullable(),
    createdAt: z.string(),
  })
  .openapi('Subscription');

const SubscriptionParams = z.object({
  id: z
    .string()
    .regex(/^sub_[0-9a-f]{32}$/, 'a subscription id')
    .openapi({ param: { name: 'id', in: 'path' }, example: 'sub_5f0c3d9e8a7b4c2d1e0f9a8b7c6d5e4f' }),
});

const CreateBody = z
  .object({
    url: z.string().min(1).max(2048).openapi({ description: 'http(s) URL without credentials', example: 'https://example.net/hooks' }),
    eventTypes: z
      .array(z.string().min(1).max(200))
      .min(1)
      .max(50)
      .optional()
      .openapi({ description: 'Event type patterns (default ["*"])', example: ['order.*', 'payment.succeeded'] }),
    secret: z
      .string()
      .max(200)
      .optional()
      .openapi({ description: 'whsec_ + base64 of 24-64 bytes (default: a new random one, returned once in the answer)' }),
    description: z.string().max(500).optional(),
  })
  .strict()
  .openapi('SubscriptionRequest', { example: { url: 'https://example.net/hooks', eventTypes: ['order.*'] } });

const createSubscription = createRoute({
  method: 'post',
  path: '/v1/subscriptions',
  tags: ['webhooks'],
  summary: "Subscribe a webhook to the tenant's emitted events; the answer carries the signing secret, shown only here",
  security: BEARER,
  middleware: [requireRole('operator')] as const,
  request: { body: { required: true, content: { 'application/json': { schema: CreateBody } } } },
  responses: {
    201: {
      description: 'Created',
      content: {
        'application/json': {
          schema: SubscriptionSchema.extend({ secret: z.string().openapi({ description: 'whsec_…: keep it, it is not shown again' }) }),
        },
      },
    },
    ...errors(403, 413, 415, 501),
  },
});

const listSubscriptions = createRoute({
  method: 'get',
  path: '/v1/subscriptions',
  tags: ['webhooks'],
  summary: "The tenant's webhook subscriptions, oldest first",
  security: BEARER,
  middleware: [requireRole('operator')] as const,
  responses: {
    200: { description: 'The list', content: { 'application/json': { schema: z.object({ items: z.array(SubscriptionSchema) }) } } },
    ...errors(403, 501),
  },
});

const getSubscription = createRoute({
  method: 'get',
  path: '/v1/subscriptions/{id}',
  tags: ['webhooks'],
  summary: 'A webhook subscription',
  security: BEARER,
  middleware: [requireRole('operator')] as const,
  request: { params: SubscriptionParams },
  responses: {
    200: { description: 'The subscription', content: { 'application/json': { schema: SubscriptionSchema } } },
    ...errors(403, 404, 501),
  },
});

const deleteSubscription = createRoute({
  method: 'delete',
  path: '/v1/subscriptions/{id}',
  tags: ['webhooks'],
  summary: 'Delete a webhook subscription: its pending deliveries are cancelled',
  security: BEARER,
  middleware: [requireRole('operator')] as const,
  request: { params: SubscriptionParams },
  responses: { 204: { description: 'Deleted' }, ...errors(403, 404, 501) },
});

/** A subscription's response body. */
export function subscriptionBody(s: SubscriptionView): z.infer<typeof SubscriptionSchema> {
  return { id: s.id, url: s.url ?? '', eventTypes: [...s.eventTypes], description: s.description, createdAt: s.createdAt.toISOString() };
}

/** Webhook subscriptions of the caller's tenant (operator role). */
export function registerSubscriptionRoutes(app: OpenAPIHono<ApiEnv>, deps: AppDeps): void {
  const { outbox } = deps.runtime;
  const scope = (c: Parameters<typeof principalOf>[0]) => ({ tenant: principalOf(c).tenant });

  app.openapi(createSubscription, async (c) => {
    const { subscription, secret } = await outbox.createWebhook(c.req.valid('json'), scope(c));
    return c.json({ ...subscriptionBody(subscription), secret }, 201);
  });

  app.openapi(listSubscriptions, async (c) =>
    c.json({ items: (await outbox.subscriptions(scope(c))).filter((s) => s.kind === 'webhook').map(subscriptionBody) }, 200),
  );

  app.openapi(getSubscription, async (c) => c.json(subscriptionBody(await outbox.subscription(c.req.valid('param').id, scope(c))), 200));

  app.openapi(deleteSubscription, async (c) => {
    await outbox.deleteSubscription(c.req.valid('param').id, scope(c));
    return c.body(null, 204);
  });
}
