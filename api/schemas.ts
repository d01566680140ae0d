/**
 * Zod schemas of the API's requests and responses: the validation of every
 * route and the source of `GET /openapi.json`.
 */
import { z } from '@hono/zod-openapi';
import { ProgressSchema } from './phase-progress.ts';

/** Instance ids as the runtime accepts them (child instances contain ":"). */
export const InstanceIdSchema = z
  .string()
  .min(1)
  .max(600)
  .regex(/^[A-Za-z0-9._~:-]+$/, 'letters, digits, ".", "_", "~", ":" or "-" only')
  .openapi({ param: { name: 'id', in: 'path' }, example: 'c0ffee00-1111-4222-8333-444455556666' });

/** `id` or `id@version`. */
export const MachineRefSchema = z
  .string()
  .min(1)
  .max(210)
  .regex(/^[A-Za-z0-9._-]+(@[A-Za-z0-9._-]+)?$/, 'a machine id, optionally with "@version"')
  .openapi({ param: { name: 'id', in: 'path' }, example: 'greeting' });

/** Path parameters of `/v1/instances/{id}…`. */
export const InstanceParams = z.object({ id: InstanceIdSchema });
/** Path parameters of `/v1/machines/{id}…`. */
export const MachineParams = z.object({ id: MachineRefSchema });

/** The optional `Idempotency-Key` header of start and event requests. */
export const IdempotencyHeaders = z.object({
  'idempotency-key': z
    .string()
    .min(1)
    .max(255)
    .optional()
    .openapi({
      param: { name: 'idempotency-key', in: 'header' },
      description: 'The same key (per tenant) applies the request once; a repeat returns the first result.',
    }),
});

/** Body of every error response. */
export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'instance_not_found' }),
      message: z.string(),
      requestId: z.string(),
      details: z.record(z.string(), z.unknown()).optional(),
    }),
  })
  .openapi('Error');

const ERROR_TEXT: Record<number, string> = {
  400: 'Malformed JSON, wrong types, unknown fields or parameters',
  401: 'Missing or invalid credential',
  403: 'The credential lacks the role the route or the event needs',
  404: 'Unknown machine or instance (other tenants\u2019 instances do not exist for the caller)',
  409: 'Conflict with the instance\u2019s current state',
  413: 'Request body over the configured limit',
  415: 'Request body not sent as application/json',
  422: 'Input rejected by the machine\u2019s input schema, or an idempotency key reused with another body',
  501: 'The server cannot do this with its configuration (e.g. history verification without PostgreSQL)',
  503: 'The runtime is stopping or the database cannot be reached (retry after Retry-After seconds)',
  504: 'The runtime did not answer in time',
};

/** Error responses for the OpenAPI document (all with {@link ErrorSchema}). */
export function errors(...codes: (keyof typeof ERROR_TEXT)[]) {
  const all = [...new Set([400, 401, ...codes])];
  return Object.fromEntries(
    all.map((code) => [code, { description: ERROR_TEXT[code]!, content: { 'application/json': { schema: ErrorSchema } } }]),
  );
}

/** Lifecycle status of an instance. */
export const StatusSchema = z.enum(['active', 'done', 'error', 'stopped']);

/** An event the current state accepts, with the roles it needs (if any). */
export const AcceptedEventSchema = z.object({ type: z.string(), roles: z.array(z.string()).optional() }).openapi('AcceptedEvent');

/** A step invocation: status, attempts, input, result and errors (redacted). */
export const StepSchema = z
  .object({
    id: z.string().openapi({ description: 'Idempotency key of the invocation' }),
    name: z.string().openapi({ description: 'Invoke id in the machine' }),
    step: z.string().nullable().openapi({ description: 'Registered step implementation' }),
    status: z.enum(['pending', 'done', 'failed', 'cancelled']),
    attempts: z.number().int(),
    input: z.unknown(),
    result: z.unknown(),
    error: z.unknown(),
    lastError: z.unknown(),
    nextAttemptAt: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
    closedAt: z.string().nullable(),
  })
  .openapi('Step');

/** A child instance started by an invoke. */
export const ChildSchema = z
  .object({
    instanceId: z.string(),
    name: z.string(),
    machine: z.string().nullable(),
    status: z.enum(['pending', 'done', 'failed', 'cancelled']),
    createdAt: z.string(),
    closedAt: z.string().nullable(),
  })
  .openapi('ChildInstance');

/** A durable timer (`after`, delayed sends). */
export const TimerSchema = z
  .object({
    name: z.string(),
    status: z.enum(['pending', 'done', 'failed', 'cancelled']),
    dueAt: z.string().nullable(),
    createdAt: z.string(),
    closedAt: z.string().nullable(),
  })
  .openapi('Timer');

/** A workflow step as operators track it (sagas: each declared step, with its compensation). */
export const WorkflowStepSchema = z
  .object({
    step: z.string(),
    status: z.enum(['pending', 'running', 'completed', 'failed', 'skipped', 'compensating', 'compensated', 'compensation_failed']),
    attempts: z.number().int(),
    compensationAttempts: z.number().int(),
    error: z.unknown(),
    lastError: z.unknown(),
    startedAt: z.string().nullable(),
    finishedAt: z.string().nullable(),
    output: z.unknown().openapi({ description: 'The step result: its compensation data' }),
    compensation: z.object({ status: z.string(), error: z.unknown(), startedAt: z.string(), finishedAt: z.string().nullable() }).nullable(),
    resolution: z.string().nullable().openapi({ description: 'Reason given when an operator resolved a failed compensation by hand' }),
  })
  .openapi('WorkflowStep');

/** Workflow status derived from the instance (no separate bookkeeping). */
export const WorkflowSchema = z
  .object({
    status: z.enum(['pending', 'running', 'completed', 'failed', 'rolling_back', 'rolled_back', 'compensation_failed', 'cancelled']),
    steps: z.array(WorkflowStepSchema),
  })
  .openapi('Workflow');

const instanceFields = {
  id: z.string(),
  tenant: z.string(),
  machine: z.object({ id: z.string(), version: z.string() }),
  status: StatusSchema,
  state: z.unknown().openapi({ description: 'XState state value', example: 'awaitingConfirmation' }),
  tags: z.array(z.string()),
  version: z.number().int().openapi({ description: 'Sequence number of the last history row' }),
  parentId: z.string().nullable(),
  paused: z
    .boolean()
    .openapi({ description: 'Paused by an operator (POST /v1/instances/{id}/pause): nothing is dispatched until resumed' }),
  restartOf: z
    .string()
    .nullable()
    .openapi({ description: 'The instance an operator restarted as this one (POST /v1/instances/{id}/restart)' }),
  forkOf: z
    .object({ id: z.string(), seq: z.number().int() })
    .nullable()
    .openapi({ description: 'The instance and history entry an operator forked this one from (POST /v1/instances/{id}/fork)' }),
  createdAt: z.string(),
  updatedAt: z.string(),
};

/** An instance as listed. */
export const InstanceSummarySchema = z.object(instanceFields).openapi('InstanceSummary');

/** An instance in full. */
export const InstanceSchema = z
  .object({
    ...instanceFields,
    context: z.unknown().openapi({ description: 'Machine context, sensitive fields redacted' }),
    output: z.unknown(),
    error: z.unknown(),
    acceptedEvents: z.array(AcceptedEventSchema),
    workflow: WorkflowSchema,
    steps: z.array(StepSchema),
    children: z.array(ChildSchema),
    timers: z.array(TimerSchema),
    tasks: z
      .array(
        z.object({
          id: z.string(),
          state: z.string(),
          title: z.string(),
          event: z.string(),
          roles: z.array(z.string()),
          assignee: z.string().nullable(),
          claimedBy: z.string().nullable(),
          dueAt: z.string().nullable(),
        }),
      )
      .openapi({ description: 'Open human tasks (GET /v1/tasks/{id} for the form)' }),
    progress: ProgressSchema.optional(),
  })
  .openapi('Instance');

/** Answer of a start: the instance, whether it was created, and (with ?wait) whether it settled. */
export const StartedInstanceSchema = InstanceSchema.extend({
  created: z.boolean().openapi({ description: 'False when the idempotency key named an existing instance' }),
  settled: z.boolean().optional().openapi({ description: 'With ?wait=settled: whether the instance settled before the timeout' }),
}).openapi('StartedInstance');

/** Answer of an event, retry: the committed state. */
export const SendResultSchema = z
  .object({
    instanceId: z.string(),
    handled: z.boolean(),
    duplicate: z.boolean().openapi({ description: 'True when the idempotency key had already been applied' }),
    status: StatusSchema,
    state: z.unknown(),
    tags: z.array(z.string()),
    version: z.number().int(),
  })
  .openapi('EventResult');

/** One history row. */
export const HistoryEntrySchema = z
  .object({
    seq: z.number().int(),
    type: z.string(),
    payload: z.unknown().openapi({ description: 'Event payload, sensitive fields redacted' }),
    source: z.string(),
    actor: z.string().nullable().openapi({ description: 'Subject of the credential that sent the event' }),
    state: z.unknown(),
    handled: z.boolean(),
    createdAt: z.string(),
  })
  .openapi('HistoryEntry');

/** A state node of a machine definition. */
export const StateInfoSchema = z.object({
  path: z.string(),
  type: z.string(),
  tags: z.array(z.string()),
  events: z.array(AcceptedEventSchema),
  steps: z.array(z.string()),
  description: z.string().optional(),
});

/** One registered version of a machine. */
export const MachineVersionSchema = z
  .object({
    version: z.string(),
    ref: z.string(),
    description: z.string().nullable(),
    states: z.array(StateInfoSchema),
    inputSchema: z.unknown().openapi({ description: 'JSON Schema of the start input, when the machine declares one' }),
    definition: z.unknown().openapi({ description: 'machine.toJSON(), functions replaced by their names' }),
  })
  .openapi('MachineVersion');

/** A machine as listed. */
export const MachineSummarySchema = z
  .object({ id: z.string(), description: z.string().nullable(), versions: z.array(z.string()), latestVersion: z.string() })
  .openapi('MachineSummary');

/** Instances of one machine version of the caller's tenant, by status. */
export const VersionInstancesSchema = z
  .object({
    active: z.number().int(),
    done: z.number().int(),
    error: z.number().int(),
    stopped: z.number().int(),
    total: z.number().int(),
  })
  .openapi('VersionInstances', { example: { active: 12, done: 340, error: 1, stopped: 2, total: 355 } });

/** A machine with all its versions, and the instances of each. */
export const MachineSchema = z
  .object({
    id: z.string(),
    latestVersion: z.string(),
    versions: z.array(MachineVersionSchema.extend({ instances: VersionInstancesSchema })),
    unregisteredVersions: z
      .array(z.object({ version: z.string(), instances: VersionInstancesSchema }))
      .openapi({ description: 'Versions this server does not register that instances of the tenant still run' }),
  })
  .openapi('Machine');

const EffectSummarySchema = z.object({
  kind: z.enum(['step', 'child', 'timer', 'send']),
  name: z.string(),
  id: z.string().optional(),
  target: z.string().nullable().optional(),
  dueAt: z.string().nullable().optional(),
});

/** What a migration does (or, in a dry run, would do) to an instance. */
export const MigrationReportSchema = z
  .object({
    dryRun: z.boolean(),
    instanceId: z.string(),
    machine: z.string(),
    from: z.string(),
    to: z.string(),
    migration: z.object({
      kind: z.enum(['registered', 'identity']).openapi({ description: 'identity: no migration registered, the snapshot as it is' }),
      steps: z.array(z.string()).openapi({ example: ['1→2'] }),
    }),
    state: z.object({
      before: z.unknown(),
      after: z.unknown(),
      paths: z.array(z.object({ from: z.string(), to: z.string() })),
    }),
    context: z.object({ added: z.array(z.string()), removed: z.array(z.string()), changed: z.array(z.string()) }),
    effects: z.object({
      kept: z.array(EffectSummarySchema),
      cancelled: z.array(EffectSummarySchema.extend({ reason: z.string() })),
      planned: z.array(EffectSummarySchema),
    }),
  })
  .openapi('MigrationReport');

/** Aggregates of one tenant. */
export const StatsSchema = z
  .object({
    instances: z.array(z.object({ machineId: z.string(), status: StatusSchema, count: z.number().int() })),
    steps: z.array(z.object({ name: z.string(), total: z.number().int(), failed: z.number().int(), retries: z.number().int() })),
    outcomes: z.array(z.object({ machineId: z.string(), outcome: z.string(), count: z.number().int() })),
    durations: z.array(
      z.object({
        machineId: z.string(),
        finished: z.number().int(),
        meanMs: z.number(),
        maxMs: z.number().describe('The longest run seen, including instances since purged'),
      }),
    ),
  })
  .openapi('Stats');

/** Security requirement of every `/v1` route (API key or JWT as a bearer token). */
export const BEARER = [{ bearerAuth: [] }];
