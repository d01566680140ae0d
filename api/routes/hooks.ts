import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { AppDeps } from '../app.ts';
import type { ApiEnv } from '../env.ts';
import { ApiError } from '../errors.ts';
import { MemoryWebhookDeliveryStore, type WebhookDeliveryStore } from '../webhooks/deliveries.ts';
import { MappingError, mapDelivery, wanted } from '../webhooks/mapping.ts';
import { verifySignature } from '../webhooks/signatures.ts';
import { checkWebhookTargets, type WebhookSource } from '../webhooks/webhook-config.ts';
import { errors, SendResultSchema } from '../schemas.ts';
import { answerAsEvents, correlateBody } from './correlate.ts';

/** The inbound webhooks of a server: its configured sources and where their delivery ids are kept. */
export interface WebhookDeps {
  readonly sources: readonly WebhookSource[];
  /** Default: in memory (a restart forgets the ids; the server uses the Postgres table). */
  readonly deliveries?: WebhookDeliveryStore;
}

const HookParams = z.object({
  source: z
    .string()
    .min(1)
    .max(63)
    .openapi({ param: { name: 'source', in: 'path' }, example: 'stripe-payments' }),
});

const Delivered = z
  .object({
    status: z.enum(['delivered', 'ignored']),
    source: z.string(),
    deliveryId: z.string(),
    key: z.string().optional(),
    value: z.string().optional(),
    deliveries: z
      .array(z.union([SendResultSchema, z.object({ instanceId: z.string(), error: z.object({ code: z.string(), message: z.string() }) })]))
      .optional(),
  })
  .openapi('WebhookResult');

const hook = createRoute({
  method: 'post',
  path: '/v1/hooks/{source}',
  tags: ['webhooks'],
  summary: 'Inbound webhook of a configured source: verified, then delivered by business key (no API key)',
  description:
    'The body is verified on its raw bytes with the source\u2019s secret (kind hmac: x-statekeeper-timestamp and ' +
    'x-statekeeper-signature: sha256=HMAC(secret, "<timestamp>.<body>"); stripe: Stripe-Signature t=,v1=; github: ' +
    'X-Hub-Signature-256 with X-GitHub-Delivery), then mapped to { machine?, key, value, event } and delivered as ' +
    'POST /v1/correlate would, in the source\u2019s tenant. A request that cannot be verified (or outside the timestamp ' +
    'tolerance) is 401 webhook_signature_invalid, a delivery id seen before 409 webhook_replayed; neither changes ' +
    'anything. A body the source\u2019s "when" filter does not want is acknowledged with 202 and ignored. A delivery ' +
    'that fails (no instance waiting, mapping failed) forgets its id, so the sender\u2019s retry is taken.',
  // No bearer token: the signature is the credential.
  security: [],
  request: { params: HookParams },
  responses: {
    200: { description: 'Delivered', content: { 'application/json': { schema: Delivered } } },
    202: { description: 'Verified, and ignored by the source\u2019s filter', content: { 'application/json': { schema: Delivered } } },
    ...errors(404, 409, 413, 422, 503),
  },
});

/** `POST /v1/hooks/{source}`: inbound webhooks (the route takes no bearer token: the signature is the credential). */
export function registerHookRoutes(app: OpenAPIHono<ApiEnv>, deps: AppDeps): void {
  const { runtime } = deps;
  const sources = new Map((deps.webhooks?.sources ?? []).map((s) => [s.name, s]));
  checkWebhookTargets([...sources.values()], runtime.registry);
  const store = deps.webhooks?.deliveries ?? new MemoryWebhookDeliveryStore();

  app.openapi(hook, async (c) => {
    const source = sources.get(c.req.valid('param').source);
    if (!source) throw new ApiError(404, 'webhook_source_not_found', 'No webhook source of that name is configured.');
    const raw = await rawBody(c.req.raw, source.maxBodyBytes);
    const now = runtime.clock.now();
    const verified = verifySignature(source, (h) => c.req.header(h), raw, now.getTime());
    if (!verified.ok) {
      throw new ApiError(401, 'webhook_signature_invalid', `The webhook cannot be verified: ${verified.reason}.`, {
        reason: verified.reason,
      });
    }
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      throw new ApiError(400, 'malformed_json', 'The webhook body is not JSON.');
    }
    // Stripe retries an event under new signatures: its id names the delivery.
    const eventId = (body as { id?: unknown } | null)?.id;
    const deliveryId =
      source.kind === 'stripe' && typeof eventId === 'string' && /^[A-Za-z0-9_]{1,180}$/.test(eventId) ? eventId : verified.deliveryId;
    const expires = new Date(now.getTime() + source.replayWindowSeconds * 1000);
    if (!(await store.claim(source.name, deliveryId, now, expires))) {
      throw new ApiError(409, 'webhook_replayed', `Delivery "${deliveryId}" of source "${source.name}" was accepted before.`, {
        deliveryId,
      });
    }
    if (!wanted(source, body)) return c.json({ status: 'ignored' as const, source: source.name, deliveryId }, 202);
    try {
      const mapped = mapDelivery(source, body);
      const idempotencyKey = `webhook:${source.name}:${deliveryId}`;
      const caller = { id: `webhook:${source.name}`, roles: [...source.roles] };
      const result = await runtime.correlate({ ...mapped, tenant: source.tenant, caller, idempotencyKey, source: 'webhook' });
      await answerAsEvents(deps, source.tenant, mapped.event, idempotencyKey, result, mapped.all === true);
      return c.json({ status: 'delivered' as const, source: source.name, deliveryId, ...correlateBody(result) }, 200);
    } catch (e) {
      // Not delivered: the sender's retry of this delivery is to be taken, not refused as a replay.
      await store.release(source.name, deliveryId);
      if (e instanceof MappingError) throw new ApiError(422, 'webhook_mapping_failed', `The webhook body does not map: ${e.message}.`);
      throw e;
    }
  });
}

/** The body as received, refused past `limit` bytes before more of it is read. */
async function rawBody(req: Request, limit: number): Promise<Buffer> {
  const declared = Number(req.headers.get('content-length') ?? Number.NaN);
  if (declared > limit) throw ApiError.payloadTooLarge(limit);
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (req.body) {
    for await (const chunk of req.body as unknown as AsyncIterable<Uint8Array>) {
      size += chunk.byteLength;
      if (size > limit) throw ApiError.payloadTooLarge(limit);
      chunks.push(chunk);
    }
  }
  return Buffer.concat(chunks);
}
