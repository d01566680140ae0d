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
        'event: snapshot (the instance), event: change ({ instanceId, version, status, state, tags, eventType }), event: end; ' +
        'the SSE id is the instance version',
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
    /** Another process committed a version we have not seen: read it (the announcement carries no state). */
    let remoteVersion = 0;
    // Subscribe before reading the snapshot, so no change can fall between the two.
    // Changes name the instance by its public id: the path's id, or (once read) the id the snapshot shows.
    let shownId = id;
    const ours = (c: { instanceId: string; tenant: string }) => (c.instanceId === id || c.instanceId === shownId) && c.tenant === tenant;
    const unsubscribeLocal = runtime.subscribe((change) => {
      if (!ours(change)) return;
      queue.push(change);
      wake?.();
    });
    const unsubscribeRemote = runtime.subscribeRemote((change) => {
      if (!ours(change)) return;
      remoteVersion = Math.max(remoteVersion, change.version);
      wake?.();
    });
    const unsubscribe = () => (unsubscribeLocal(), unsubscribeRemote());
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
        const readCurrent = async () => {
          const current = await runtime.get(id, { tenant });
          if (current.version <= version) return false;
          const { value, status, tags } = current;
          queue.push({ instanceId: id, tenant, version: current.version, value, status, tags, eventType: '' });
          return true;
        };
        while (!aborted && status === 'active') {
          if (queue.length === 0 && remoteVersion <= version) {
            const woken = await new Promise<boolean>((resolve) => {
              const timer = setTimeout(() => resolve(false), keepAliveMs);
              wake = () => {
                clearTimeout(timer);
                resolve(true);
              };
            });
            wake = undefined;
            // Quiet period: a keep-alive, and a read in case another process's announcement was lost.
            if (!woken && !aborted && !(await readCurrent())) await stream.write(': keep-alive\n\n');
          }
          // Announced by another process (LISTEN/NOTIFY): its state is read from the store.
          if (!aborted && remoteVersion > version && queue.length === 0 && !(await readCurrent())) remoteVersion = version;
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
