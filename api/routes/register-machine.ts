import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { AppDeps } from '../app.ts';
import type { ApiEnv } from '../env.ts';
import { ApiError } from '../errors.ts';
import { machineVersionBody } from '../machine-info.ts';
import { requireRole } from '../middleware/auth.ts';
import { BEARER, errors, MachineVersionSchema } from '../schemas.ts';

const registerDefinition = createRoute({
  method: 'post',
  path: '/v1/machines',
  tags: ['machines'],
  summary: 'Registers a JSON workflow definition (an XState machine config bound to named implementations) or a YAML phase workflow',
  description:
    'The body is the definition itself: JSON (`application/json`), or a phase workflow (`statekeeper: phases/1`) as ' +
    '`application/yaml`, compiled to its machine config and registered as that JSON. ' +
    'It is validated in full before anything is registered: ' +
    'a 422 `definition_invalid` lists every problem ' +
    'with its JSON Pointer (`details.issues[].path`; `line`/`column` for malformed JSON and for YAML). ' +
    'The same definition again is a no-op (200); ' +
    'another definition under a registered `id@version` is a 409.',
  security: BEARER,
  middleware: [requireRole('admin')] as const,
  responses: {
    201: { description: 'Registered', content: { 'application/json': { schema: MachineVersionSchema.extend({ id: z.string() }) } } },
    200: {
      description: 'Already registered with this definition',
      content: { 'application/json': { schema: MachineVersionSchema.extend({ id: z.string() }) } },
    },
    ...errors(403, 409, 413, 422),
  },
});

/** `POST /v1/machines`: registers a JSON workflow definition or a YAML phase workflow at run time. */
export function registerMachineRegistrationRoutes(app: OpenAPIHono<ApiEnv>, deps: AppDeps): void {
  app.openapi(registerDefinition, async (c) => {
    if (!deps.definitions) throw new ApiError(404, 'route_not_found', 'This server registers no definitions at run time.');
    const type = c.req.header('Content-Type') ?? '';
    const yaml = /^(application|text)\/(x-)?yaml\b/i.test(type);
    if (!yaml && !/^application\/json\b/i.test(type))
      throw new ApiError(415, 'unsupported_media_type', 'Send a definition as application/json, or a phase workflow as application/yaml.');
    // The raw text, so malformed JSON or YAML is reported with its line and column like any other problem.
    const text = await c.req.text();
    const before = deps.runtime.registry.list().length;
    const options = { persist: true, actor: c.get('principal').subject };
    const reg = yaml ? await deps.definitions.registerPhases(text, options) : await deps.definitions.register(text, options);
    const created = deps.runtime.registry.list().length > before;
    return c.json({ id: reg.id, ...machineVersionBody(reg) }, created ? 201 : 200);
  });
}
