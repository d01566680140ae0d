import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { AppDeps } from '../app.ts';
import type { ApiEnv } from '../env.ts';
import { machineVersionBody } from '../machine-info.ts';
import { requireRole } from '../middleware/auth.ts';
import { principalOf } from '../env.ts';
import type { VersionCount } from '../../runtime/index.ts';
import { BEARER, errors, MachineParams, MachineSchema, MachineSummarySchema } from '../schemas.ts';

const listMachines = createRoute({
  method: 'get',
  path: '/v1/machines',
  tags: ['machines'],
  summary: 'Registered machines and their versions',
  security: BEARER,
  middleware: [requireRole('viewer')] as const,
  responses: {
    200: { description: 'Machines', content: { 'application/json': { schema: z.object({ items: z.array(MachineSummarySchema) }) } } },
    ...errors(403),
  },
});

const getMachine = createRoute({
  method: 'get',
  path: '/v1/machines/{id}',
  tags: ['machines'],
  summary: 'A machine: every version with its states, accepted events, input schema, definition and instance counts by status',
  security: BEARER,
  middleware: [requireRole('viewer')] as const,
  request: { params: MachineParams },
  responses: {
    200: { description: 'The machine', content: { 'application/json': { schema: MachineSchema } } },
    ...errors(403, 404),
  },
});

/** `GET /v1/machines`, `GET /v1/machines/{id}` (`id` or `id@version`). */
export function registerMachineRoutes(app: OpenAPIHono<ApiEnv>, deps: AppDeps): void {
  app.openapi(listMachines, (c) => {
    const byId = new Map<string, ReturnType<AppDeps['runtime']['registry']['list']>>();
    for (const m of deps.runtime.registry.list()) byId.set(m.id, [...(byId.get(m.id) ?? []), m]);
    const items = [...byId.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([id, versions]) => {
        const latest = versions.at(-1)!;
        return {
          id,
          description: latest.description ?? (latest.machine.root.description as string | undefined) ?? null,
          versions: versions.map((v) => v.version),
          latestVersion: latest.version,
        };
      });
    return c.json({ items }, 200);
  });

  app.openapi(getMachine, async (c) => {
    const { id: ref } = c.req.valid('param');
    const resolved = deps.runtime.registry.resolve(ref);
    const all = deps.runtime.registry.list().filter((m) => m.id === resolved.id);
    const versions = ref.includes('@') ? [resolved] : all;
    const counts = countsByVersion(await deps.runtime.versionCounts(resolved.id, { tenant: principalOf(c).tenant }));
    const registered = new Set(all.map((v) => v.version));
    return c.json(
      {
        id: resolved.id,
        latestVersion: all.at(-1)!.version,
        versions: versions.map((v) => ({ ...machineVersionBody(v), instances: counts.get(v.version) ?? emptyCounts() })),
        unregisteredVersions: ref.includes('@')
          ? []
          : [...counts].filter(([v]) => !registered.has(v)).map(([version, instances]) => ({ version, instances })),
      },
      200,
    );
  });
}

const emptyCounts = () => ({ active: 0, done: 0, error: 0, stopped: 0, total: 0 });

/** The store's grouped counts as one object of counts per version. */
function countsByVersion(rows: readonly VersionCount[]): Map<string, ReturnType<typeof emptyCounts>> {
  const out = new Map<string, ReturnType<typeof emptyCounts>>();
  for (const r of rows) {
    const c = out.get(r.version) ?? emptyCounts();
    c[r.status] += r.count;
    c.total += r.count;
    out.set(r.version, c);
  }
  return out;
}
