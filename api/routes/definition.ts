import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { AppDeps } from '../app.ts';
import type { ApiEnv } from '../env.ts';
import { ApiError } from '../errors.ts';
import { CONFIG_FORMATS } from '../../definitions/index.ts';
import { machineToMermaid } from '../exports/mermaid.ts';
import { requireRole } from '../middleware/auth.ts';
import { BEARER, errors, MachineParams } from '../schemas.ts';

/** The export formats `GET /v1/machines/{id}/definition` serves. */
export const DEFINITION_FORMATS = [...Object.keys(CONFIG_FORMATS), 'mermaid'] as const;

const DefinitionQuery = z
  .object({
    format: z
      .string()
      .min(1)
      .max(20)
      .default('json')
      .openapi({ description: `Export format: ${DEFINITION_FORMATS.join(', ')} (default json)`, example: 'json' }),
    direction: z.enum(['LR', 'TB']).optional().openapi({ description: 'mermaid: layout direction (default LR)' }),
  })
  .strict();

const MERMAID_EXAMPLE = `stateDiagram-v2
  direction LR
  [*] --> s_composing
  state "composing" as s_composing
  s_composing : step composeGreeting
  state "awaitingConfirmation" as s_awaitingConfirmation
  state "confirmed" as s_confirmed
  s_confirmed --> [*]
  s_composing --> s_awaitingConfirmation : done compose
  s_awaitingConfirmation --> s_confirmed : greeting.confirm
  s_awaitingConfirmation --> s_awaitingConfirmation : after reminder
`;

const getDefinition = createRoute({
  method: 'get',
  path: '/v1/machines/{id}/definition',
  tags: ['machines'],
  summary:
    'Export a machine version (`id` is the latest, `id@version` one version): ' +
    'format=json is the machine config (Stately Studio import/export ' +
    'shape: implementations by name, delays and params kept), ts a TypeScript module of it, mermaid a Mermaid state diagram',
  security: BEARER,
  middleware: [requireRole('viewer')] as const,
  request: { params: MachineParams, query: DefinitionQuery },
  responses: {
    200: {
      description:
        'format=json: the XState machine config, loadable by createMachine with the same implementations. format=ts: text. ' +
        'format=mermaid: `stateDiagram-v2` text; compound states as composite states, parallel regions split by `--`, ' +
        'transitions labelled with event, [guard] and delay; state ids are `s_` + the state path (see api/exports/mermaid-ids.ts)',
      content: {
        'application/json': { schema: z.record(z.string(), z.unknown()) },
        'text/plain': { schema: z.string() },
        'text/vnd.mermaid': { schema: z.string().openapi({ example: MERMAID_EXAMPLE }) },
      },
    },
    ...errors(403, 404),
  },
});

/** `GET /v1/machines/{id}/definition?format=…`: a registered machine exported for other tools. */
export function registerDefinitionRoutes(app: OpenAPIHono<ApiEnv>, deps: AppDeps): void {
  app.openapi(getDefinition, (c) => {
    const { id: ref } = c.req.valid('param');
    const query = c.req.valid('query');
    const reg = deps.runtime.registry.resolve(ref);
    const config = Object.hasOwn(CONFIG_FORMATS, query.format) ? CONFIG_FORMATS[query.format] : undefined;
    if (config) {
      const rendered = config(reg.machine, reg.version);
      c.header('Content-Type', rendered.contentType);
      return c.body(rendered.body, 200);
    }
    switch (query.format) {
      case 'mermaid':
        c.header('Content-Type', 'text/vnd.mermaid; charset=utf-8');
        return c.body(machineToMermaid(reg.machine, { direction: query.direction }), 200);
      default:
        throw ApiError.unsupportedFormat(query.format, DEFINITION_FORMATS);
    }
  });
}
