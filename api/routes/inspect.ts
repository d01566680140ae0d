import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { replayInspection, type InspectionAdapter, type StoredRun } from '../../observability/inspect.ts';
import type { Runtime } from '../../runtime/index.ts';
import type { EventRecord } from '../../runtime/ports.ts';
import type { AppDeps } from '../app.ts';
import { principalOf, type ApiEnv } from '../env.ts';
import { requireRole } from '../middleware/auth.ts';
import { BEARER, errors, InstanceParams } from '../schemas.ts';
import { redact } from '../views.ts';

/** The Stately inspector the server streams to, when `STATEKEEPER_INSPECT=on`. */
export interface InspectorTarget {
  readonly adapter: InspectionAdapter;
  /** The page that shows it. */
  readonly url: string;
}

const InspectionEventSchema = z
  .object({ type: z.enum(['@xstate.actor', '@xstate.event', '@xstate.snapshot']), sessionId: z.string(), createdAt: z.string() })
  .passthrough()
  .openapi('InspectionEvent');

const ReplaySchema = z
  .object({
    instanceId: z.string(),
    sent: z.boolean().openapi({ description: 'True when the events were sent to the configured inspector' }),
    inspectorUrl: z.string().nullable().openapi({ description: 'The page showing the inspector (STATEKEEPER_INSPECT=on)' }),
    instances: z.number().int().openapi({ description: 'Instances replayed: this one and its child instances' }),
    mismatches: z.array(z.object({ instanceId: z.string(), seq: z.number().int(), stored: z.any(), replayed: z.any() })),
    events: z.array(InspectionEventSchema),
  })
  .openapi('InspectionReplay');

const replay = createRoute({
  method: 'get',
  path: '/v1/instances/{id}/inspect',
  tags: ['instances'],
  summary: 'Replays the stored history (with child instances) into the Stately inspector, and returns the @xstate.* events',
  security: BEARER,
  middleware: [requireRole('viewer')] as const,
  request: { params: InstanceParams },
  responses: {
    200: { description: 'The replayed inspection events', content: { 'application/json': { schema: ReplaySchema } } },
    ...errors(403, 404),
  },
});

/** `GET /v1/instances/{id}/inspect`. */
export function registerInspectRoutes(app: OpenAPIHono<ApiEnv>, deps: AppDeps): void {
  app.openapi(replay, async (c) => {
    const { id } = c.req.valid('param');
    const runs = await storedRuns(deps.runtime, id, principalOf(c).tenant);
    const sanitize = (v: unknown) => redact(v, deps.redactKeys);
    const result = replayInspection(runs, deps.inspector?.adapter, { sanitize });
    return c.json(
      {
        instanceId: id,
        sent: deps.inspector !== undefined,
        inspectorUrl: deps.inspector?.url ?? null,
        instances: runs.length,
        mismatches: result.mismatches,
        events: JSON.parse(JSON.stringify(result.events)) as z.infer<typeof InspectionEventSchema>[],
      },
      200,
    );
  });
}

const MAX_INSTANCES = 100;

/** The instance and its child instances (breadth first, at most {@link MAX_INSTANCES}), each with its whole history. */
export async function storedRuns(runtime: Runtime, id: string, tenant: string): Promise<StoredRun[]> {
  const runs: StoredRun[] = [];
  const queue = [id];
  while (queue.length && runs.length < MAX_INSTANCES) {
    const next = queue.shift()!;
    // A child effect whose instance was not created yet has nothing to replay.
    const view = await runtime.get(next, { tenant }).catch((e) => (next === id ? Promise.reject(e) : undefined));
    if (!view) continue;
    const reg = runtime.registry.find(view.machine.id, view.machine.version);
    if (!reg) continue;
    runs.push({ instanceId: next, parentId: view.parentId, machine: reg.machine, history: await wholeHistory(runtime, next, tenant) });
    for (const e of await runtime.effects(next, { tenant })) if (e.kind === 'child') queue.push(e.id);
  }
  return runs;
}

async function wholeHistory(runtime: Runtime, id: string, tenant: string): Promise<EventRecord[]> {
  const rows: EventRecord[] = [];
  for (;;) {
    const page = await runtime.history(id, { tenant, afterSeq: rows.at(-1)?.seq ?? 0, limit: 500 });
    rows.push(...page);
    if (page.length < 500) return rows;
  }
}
