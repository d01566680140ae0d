import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { streamSSE } from 'hono/streaming';
import type { InstanceChange } from '../../runtime/index.ts';
import type { AppDeps } from '../app.ts';
import { principalOf, type ApiEnv } from '../env.ts';
import { requireRole } from '../middleware/auth.ts';
import { BEARER, errors, InstanceParams } from '../schemas.ts';
import { instanceBody } from '../views.ts';

const streamInstance = createRoute({
  method: 'get',
  path: '/v1/instances/{id}/stream',
  tags: ['instances'],
  summary: 'Server-sent events: a snapshot, then each committed change, keep-alive comments, and an end event when the instance finishes',
  security: BEARER,
  middleware: [requireRole('viewer')] as const,
  request: { params: InstanceParams },
  responses: {
    200: {
      description:
        'event: snapshot (the instance), event: change ({ instanceId, version, status, state, tags, eventType }), event: end; the SSE id is the instance version',
      content: { 'text/event-stream': { schema: z.string() } },
    },
    ...errors(403, 404),
  },
});

/** `GET /v1/instances/{id}/stream`. */
export function registerStreamRoutes(app: OpenAPIHono<ApiEnv>, deps: AppDeps): void {
  const { runtime } = deps;
  const keepAliveMs = deps.sseKeepAliveMs ?? 15_000;

  app.openapi(streamInstance, async (c) => {
    const { id } = c.req.valid('param');
    const { tenant } = principalOf(c);
    const queue: InstanceChange[] = [];
    let wake: (() => void) | undefined;
    // Subscribe before reading the snapshot, so no change can fall between the two.
    // Changes name the instance by its public id: the path's id, or (once read) the id the snapshot shows.
    let shownId = id;
    const unsubscribe = runtime.subscribe((change) => {
      if ((change.instanceId !== id && change.instanceId !== shownId) || change.tenant !== tenant) return;
      queue.push(change);
      wake?.();
    });
    let first;
    try {
      first = await runtime.describe(id, { tenant });
    } catch (e) {
      unsubscribe();
      throw e;
    }
    const snapshot = first;
    shownId = first.id;
    return streamSSE(c, async (stream) => {
      let aborted = false;
      stream.onAbort(() => {
        aborted = true;
        wake?.();
      });
      try {
        let version = snapshot.version;
        let status = snapshot.status;
        await stream.writeSSE({ event: 'snapshot', id: String(version), data: JSON.stringify(instanceBody(snapshot, deps.redactKeys)) });
        while (!aborted && status === 'active') {
          if (queue.length === 0) {
            const woken = await new Promise<boolean>((resolve) => {
              const timer = setTimeout(() => resolve(false), keepAliveMs);
              wake = () => {
                clearTimeout(timer);
                resolve(true);
              };
            });
            wake = undefined;
            if (!woken && !aborted) {
              // Quiet period: a change committed by another process reaches us only through this poll.
              const current = await runtime.get(id, { tenant });
              if (current.version > version)
                queue.push({
                  instanceId: id,
                  tenant,
                  version: current.version,
                  value: current.value,
                  status: current.status,
                  tags: current.tags,
                  eventType: '',
                });
              else await stream.write(': keep-alive\n\n');
            }
          }
          for (const change of queue.splice(0).sort((a, b) => a.version - b.version)) {
            if (change.version <= version) continue;
            version = change.version;
            status = change.status;
            const data = { instanceId: id, version, status, state: change.value, tags: change.tags, eventType: change.eventType || null };
            await stream.writeSSE({ event: 'change', id: String(version), data: JSON.stringify(data) });
          }
        }
        if (!aborted)
          await stream.writeSSE({ event: 'end', id: String(version), data: JSON.stringify({ instanceId: id, version, status }) });
      } finally {
        unsubscribe();
      }
    });
  });
}
