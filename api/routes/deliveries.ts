import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { DeliveryStatus, DeliveryView } from '../../runtime/index.ts';
import type { AppDeps } from '../app.ts';
import { principalOf, type ApiEnv } from '../env.ts';
import { requireRole } from '../middleware/auth.ts';
import { BEARER, errors, InstanceParams } from '../schemas.ts';

const STATUSES = ['pending', 'delivered', 'dead', 'cancelled'] as const;

/** One outbox row's delivery to one subscription. */
export const DeliverySchema = z
  .object({
    id: z.string().openapi({ description: '<outbox id>-<subscription id>; the webhook-id header of every attempt' }),
    outboxId: z.number().int(),
    subscriptionId: z.string(),
    instanceId: z.string(),
    eventType: z.string(),
    status: z.enum(STATUSES),
    attempts: z.number().int().openapi({ description: 'Attempts whose outcome was recorded' }),
    nextAttemptAt: z.string().nullable(),
    lastError: z.string().nullable(),
    lastStatus: z.number().int().nullable().openapi({ description: 'HTTP status of the last answer' }),
    deliveredAt: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Delivery');

const DeliveryParams = z.object({
  id: z
    .string()
    .max(200)
    .regex(/^[0-9]{1,19}-[A-Za-z0-9._-]{1,120}$/, 'a delivery id')
    .openapi({ param: { name: 'id', in: 'path' }, example: '42-sub_5f0c3d9e8a7b4c2d1e0f9a8b7c6d5e4f' }),
});

const PageQuery = {
  status: z
    .string()
    .regex(/^(pending|delivered|dead|cancelled)(,(pending|delivered|dead|cancelled))*$/, 'pending, delivered, dead, cancelled')
    .optional()
    .openapi({ description: 'Comma-separated statuses, e.g. dead' }),
  subscription: z
    .string()
    .regex(/^sub_[0-9a-f]{32}$/)
    .optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().min(1).max(1000).optional().openapi({ description: 'nextCursor of the previous page' }),
};

const Page = z.object({ items: z.array(DeliverySchema), nextCursor: z.string().nullable() }).openapi('DeliveryPage');

const listDeliveries = createRoute({
  method: 'get',
  path: '/v1/deliveries',
  tags: ['webhooks'],
  summary: "The tenant's outbox deliveries in outbox order (filter by status, e.g. dead letters: ?status=dead)",
  security: BEARER,
  middleware: [requireRole('viewer')] as const,
  request: { query: z.object(PageQuery).strict() },
  responses: { 200: { description: 'A page', content: { 'application/json': { schema: Page } } }, ...errors(403, 501) },
});

const instanceDeliveries = createRoute({
  method: 'get',
  path: '/v1/instances/{id}/deliveries',
  tags: ['webhooks'],
  summary: "Deliveries of an instance's emitted events, in outbox order",
  security: BEARER,
  middleware: [requireRole('viewer')] as const,
  request: { params: InstanceParams, query: z.object(PageQuery).strict() },
  responses: { 200: { description: 'A page', content: { 'application/json': { schema: Page } } }, ...errors(403, 404, 501) },
});

const getDelivery = createRoute({
  method: 'get',
  path: '/v1/deliveries/{id}',
  tags: ['webhooks'],
  summary: 'One delivery',
  security: BEARER,
  middleware: [requireRole('viewer')] as const,
  request: { params: DeliveryParams },
  responses: { 200: { description: 'The delivery', content: { 'application/json': { schema: DeliverySchema } } }, ...errors(403, 404) },
});

const redeliver = createRoute({
  method: 'post',
  path: '/v1/deliveries/{id}/redeliver',
  tags: ['webhooks'],
  summary: 'Deliver again a dead-lettered (or delivered) delivery: pending, due now, attempts from zero',
  security: BEARER,
  middleware: [requireRole('operator')] as const,
  request: { params: DeliveryParams },
  responses: {
    200: { description: 'The delivery, pending again', content: { 'application/json': { schema: DeliverySchema } } },
    ...errors(403, 404, 409, 501),
  },
});

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** A delivery's response body. */
export function deliveryBody(d: DeliveryView): z.infer<typeof DeliverySchema> {
  return {
    id: d.id,
    outboxId: d.outboxId,
    subscriptionId: d.subscriptionId,
    instanceId: d.instanceId,
    eventType: d.eventType,
    status: d.status,
    attempts: d.attempts,
    nextAttemptAt: iso(d.nextAttemptAt),
    lastError: d.lastError,
    lastStatus: d.lastStatus,
    deliveredAt: iso(d.deliveredAt),
    createdAt: iso(d.createdAt)!,
    updatedAt: iso(d.updatedAt)!,
  };
}

const statusesOf = (s: string | undefined) => (s ? ([...new Set(s.split(','))] as DeliveryStatus[]) : undefined);

/** Outbox deliveries of the caller's tenant: lists (viewer) and redelivery (operator). */
export function registerDeliveryRoutes(app: OpenAPIHono<ApiEnv>, deps: AppDeps): void {
  const { runtime } = deps;
  const page = (p: { items: DeliveryView[]; nextCursor: string | null }) => ({
    items: p.items.map(deliveryBody),
    nextCursor: p.nextCursor,
  });

  app.openapi(listDeliveries, async (c) => {
    const q = c.req.valid('query');
    const tenant = principalOf(c).tenant;
    const options = { tenant, status: statusesOf(q.status), subscriptionId: q.subscription, limit: q.limit, cursor: q.cursor };
    return c.json(page(await runtime.outbox.deliveries(options)), 200);
  });

  app.openapi(instanceDeliveries, async (c) => {
    const q = c.req.valid('query');
    const tenant = principalOf(c).tenant;
    const options = { tenant, status: statusesOf(q.status), subscriptionId: q.subscription, limit: q.limit, cursor: q.cursor };
    return c.json(page(await runtime.deliveries(c.req.valid('param').id, options)), 200);
  });

  app.openapi(getDelivery, async (c) =>
    c.json(deliveryBody(await runtime.outbox.delivery(c.req.valid('param').id, { tenant: principalOf(c).tenant })), 200),
  );

  app.openapi(redeliver, async (c) =>
    c.json(deliveryBody(await runtime.outbox.redeliver(c.req.valid('param').id, { tenant: principalOf(c).tenant })), 200),
  );
}
