import { OpenAPIHono } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { secureHeaders } from 'hono/secure-headers';
import type { Logger } from 'pino';
import { observeRequests } from '../observability/http.ts';
import type { HistoryVerification } from '../adapters/postgres/history-chain.ts';
import type { DefinitionService } from '../definitions/index.ts';
import type { Runtime } from '../runtime/index.ts';
import type { Authenticator } from './auth/principal.ts';
import type { ApiEnv } from './env.ts';
import { ApiError } from './errors.ts';
import { authenticate } from './middleware/auth.ts';
import { createNotFoundHandler, errorHandler, validationHook, type InternalErrorReporter } from './middleware/errors.ts';
import { requestId } from './middleware/request-id.ts';
import { hstsOverHttps, noStore } from './middleware/response-headers.ts';
import { rejectUnstorable } from './middleware/unstorable.ts';
import { registerBulkRoutes } from './routes/bulk.ts';
import { registerCommandRoutes } from './routes/commands.ts';
import { registerDeliveryRoutes } from './routes/deliveries.ts';
import { registerSubscriptionRoutes } from './routes/subscriptions.ts';
import { registerMigrateRoutes } from './routes/migrate.ts';
import { registerCorrelateRoutes } from './routes/correlate.ts';
import { registerHookRoutes, type WebhookDeps } from './routes/hooks.ts';
import { registerDashboardRoutes } from './routes/dashboard.ts';
import { registerDefinitionRoutes } from './routes/definition.ts';
import { registerMachineRegistrationRoutes } from './routes/register-machine.ts';
import { registerDocsRoutes } from './routes/docs.ts';
import { registerForkRoutes } from './routes/fork.ts';
import { registerHealthRoutes } from './routes/health.ts';
import { registerHistoryRoutes } from './routes/history.ts';
import { registerInspectRoutes, type InspectorTarget } from './routes/inspect.ts';
import { registerInstanceRoutes } from './routes/instances.ts';
import { registerMachineRoutes } from './routes/machines.ts';
import { registerMetricsRoutes, type MetricsEndpoint } from './routes/metrics.ts';
import { registerRetentionRoutes } from './routes/retention.ts';
import { registerScheduleRoutes } from './routes/schedules.ts';
import { registerStatsRoutes } from './routes/stats.ts';
import { registerStreamRoutes } from './routes/stream.ts';
import { registerTaskRoutes } from './routes/tasks.ts';

/** What the HTTP API needs. */
export interface AppDeps {
  readonly runtime: Runtime;
  /** Resolves bearer tokens (API keys, JWTs) to principals. */
  readonly auth: Authenticator;
  /** True when the database answers and migrations are applied. */
  readonly ready?: () => Promise<boolean>;
  /** JSON workflow definitions: `POST /v1/machines` registers through it (absent: the route answers 404). */
  readonly definitions?: DefinitionService;
  /** Largest accepted request body (default 1 MiB). */
  readonly bodyLimitBytes?: number;
  /** Keys whose values are redacted in responses (default {@link DEFAULT_REDACT_KEYS}). */
  readonly redactKeys?: RegExp;
  /** Interval of keep-alive comments on event streams (default 15 s). */
  readonly sseKeepAliveMs?: number;
  /**
   * Checks an instance's history hash chain and signed checkpoints
   * (`GET /v1/instances/{id}/history?verify=true`); absent on stores without one.
   */
  readonly verifyHistory?: (instanceId: string) => Promise<HistoryVerification | undefined>;
  /** Where 500s are reported with their request id (default: the logger, else console.error). */
  readonly reportError?: InternalErrorReporter;
  /** One JSON line per request (method, route, status, duration, request id, trace id). */
  readonly log?: Logger;
  /** `GET /metrics` (Prometheus text); absent: no such route. */
  readonly metrics?: MetricsEndpoint;
  /** Inbound webhook sources (`POST /v1/hooks/{source}`) and their delivery-id store; absent: every source is unknown. */
  readonly webhooks?: WebhookDeps;
  /** The Stately inspector that `GET /v1/instances/{id}/inspect` replays into (else it only returns the events). */
  readonly inspector?: InspectorTarget;
}

/** Default body limit: 1 MiB. */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;

/**
 * The HTTP API: `/v1` routes behind bearer authentication, health, OpenAPI
 * document and docs page.
 * @example
 * ```ts
 * const auth = new ApiKeyAuthenticator(new PgApiKeyStore(orm));
 * serve({ fetch: createApp({ runtime, auth }).fetch, port: 3000 });
 * ```
 */
export function createApp(deps: AppDeps) {
  const app = new OpenAPIHono<ApiEnv>({ defaultHook: validationHook });
  const limit = deps.bodyLimitBytes ?? DEFAULT_BODY_LIMIT;
  const log = deps.log;
  const report =
    deps.reportError ??
    (log
      ? (e: unknown, id: string) => log.error({ err: e, request_id: id }, 'request failed')
      : (e: unknown, id: string) => console.error(`[statekeeper] request ${id} failed:`, e));

  app.use(requestId());
  // A server span per request (incoming traceparent honoured) and one log line.
  app.use(observeRequests({ log }));
  // HSTS is sent by hstsOverHttps, only where it means something.
  app.use(secureHeaders({ strictTransportSecurity: false }));
  app.use(hstsOverHttps());
  app.onError(errorHandler(report));
  app.notFound(createNotFoundHandler(() => app.routes));
  app.use('/v1/*', noStore());
  // Inbound webhooks carry no bearer token: their signature, checked by the route on the raw body, is the credential.
  app.use('/v1/*', exceptHooks(authenticate(deps.auth)));
  app.use(
    '/v1/*',
    bodyLimit({
      maxSize: limit,
      onError: () => {
        throw ApiError.payloadTooLarge(limit);
      },
    }),
  );
  // ...and their body must reach the route unread: the signature covers its bytes (the mapped values are checked there).
  app.use('/v1/*', exceptHooks(rejectUnstorable()));

  registerHealthRoutes(app, deps);
  registerMachineRoutes(app, deps);
  registerDefinitionRoutes(app, deps);
  registerMachineRegistrationRoutes(app, deps);
  registerInstanceRoutes(app, deps);
  registerCommandRoutes(app, deps);
  registerMigrateRoutes(app, deps);
  registerForkRoutes(app, deps);
  registerCorrelateRoutes(app, deps);
  registerHookRoutes(app, deps);
  registerBulkRoutes(app, deps);
  registerHistoryRoutes(app, deps);
  registerTaskRoutes(app, deps);
  registerSubscriptionRoutes(app, deps);
  registerDeliveryRoutes(app, deps);
  registerStreamRoutes(app, deps);
  registerScheduleRoutes(app, deps);
  registerRetentionRoutes(app, deps);
  registerStatsRoutes(app, deps);
  registerInspectRoutes(app, deps);
  registerMetricsRoutes(app, deps);
  registerDocsRoutes(app);
  registerDashboardRoutes(app);
  return app;
}

/** `mw` for every `/v1` path but the inbound webhooks'. */
function exceptHooks(mw: MiddlewareHandler<ApiEnv>): MiddlewareHandler<ApiEnv> {
  return (c, next) => (c.req.path.startsWith('/v1/hooks/') ? next() : mw(c, next));
}

/** The app type (for tests and typed clients). */
export type App = ReturnType<typeof createApp>;
