import { serve } from '@hono/node-server';
import type { Server } from 'node:http';
import path from 'node:path';
import { hostname } from 'node:os';
import type { AnyStateMachine } from 'xstate';
import {
  FieldCipher,
  parseEncryptionKeys,
  SealedOutboxStore,
  SealedStore,
  SecretFields,
  secretPolicyOf,
} from '../adapters/encryption/index.ts';
import type { OutboxStore } from '../runtime/index.ts';
import type { InstanceStore } from '../runtime/ports.ts';
import { PgHistoryChain, parseCheckpointKeys, startHistoryCheckpoints } from '../adapters/postgres/history-chain.ts';
import { startStatsFolding } from '../adapters/postgres/stats-counters.ts';
import {
  openDatabase,
  PgDefinitionStore,
  PgInstanceStore,
  PgNotifier,
  PgOutboxStore,
  pgGauges,
  PgWebhookDeliveryStore,
  startEmbeddedPostgres,
  type EmbeddedPostgresServer,
} from '../adapters/postgres/index.ts';
import { observeChanges } from '../observability/changes.ts';
import { liveInspection, startInspector } from '../observability/inspect.ts';
import { createLogger, logObserver } from '../observability/logger.ts';
import { createMetrics } from '../observability/metrics.ts';
import { startTracing } from '../observability/otel.ts';
import { createCatalog, DefinitionService, stepActors } from '../definitions/index.ts';
import { createRuntime } from '../runtime/index.ts';
import { combineObservers } from '../runtime/observer.ts';
import { createApiDeps } from './api-deps.ts';
import { createApp } from './app.ts';
import { loadWebhookSources } from './webhooks/webhook-config.ts';
import { redact } from './views.ts';
import { loadConfig } from './config.ts';
import { configuredSchedules } from './schedule-config.ts';
import { answerClientErrors } from './middleware/protocol-errors.ts';
import { isDatabaseUnavailable } from './middleware/unavailable.ts';
import { createShutdown, StopRequested, type Shutdown } from './shutdown.ts';
import type { Logger } from 'pino';
import { BUNDLED_DEFINITIONS_DIR, bundledWorkflows } from './workflows.ts';

/**
 * The composition root: configuration, tracing (OTEL_* variables), logger,
 * metrics, database (embedded or DATABASE_URL), runtime with the bundled
 * machines and steps, HTTP server, graceful stop.
 * @remarks Each part is registered with the stop sequence as soon as it runs,
 * so SIGINT/SIGTERM at any moment stops exactly what was started, in reverse
 * order: HTTP server, runtime (leases released), lab, store, and the embedded
 * database last.
 */
async function main(shutdown: Shutdown) {
  const config = loadConfig();
  const pretty = config.LOG_FORMAT === undefined ? undefined : config.LOG_FORMAT === 'pretty';
  const log = createLogger({ level: config.LOG_LEVEL, pretty });
  const tracing = startTracing();
  shutdown.add('tracing', () => tracing.shutdown());
  if (tracing.exporter !== 'none') log.info({ exporter: tracing.exporter }, 'statekeeper: exporting traces (OTEL_* variables)');
  let embedded: EmbeddedPostgresServer | undefined;
  let url = config.DATABASE_URL;
  if (!url) {
    const dataDir = path.join(config.dataDir, 'pg');
    embedded = await startEmbeddedPostgres({ dataDir });
    shutdown.add('embedded PostgreSQL', () => embedded!.stop());
    url = embedded.url;
    log.info(`statekeeper: embedded PostgreSQL, data lives in ${dataDir}`);
  } else {
    log.info(`statekeeper: using the PostgreSQL server in DATABASE_URL`);
  }
  shutdown.checkpoint();
  const orm = await openDatabase({ url });
  // Subscriptions and deliveries of the outbox; its backlog feeds the lag gauges.
  let outboxStore: OutboxStore | undefined;
  const metrics = createMetrics({
    ...pgGauges(orm),
    outboxBacklog: async () => (outboxStore ? outboxStore.backlog(new Date()) : { pending: 0, oldestPendingMs: 0 }),
  });
  // What the runtime reports as it happens (step attempts, timers, claims, commit batches): metrics and log lines.
  const observer = combineObservers(metrics.observer, logObserver(log));
  const store = new PgInstanceStore(orm, { onCommitBatch: observer.commitBatch });
  shutdown.add('store', () => store.close());
  // The stats counters: deltas written by the triggers are folded every few seconds (one process at a time).
  const stopStatsFolding = startStatsFolding(store, config.STATEKEEPER_STATS_FOLD_MS, (e) => logBackgroundError(log, e));
  shutdown.add('stats folding', stopStatsFolding);
  // Wake-ups from the other processes on this database (LISTEN/NOTIFY on a connection of its own); polling covers gaps.
  const wakeups = new PgNotifier({
    url: config.DATABASE_LISTEN_URL ?? url,
    origin: store.origin,
    onError: (e) => logBackgroundError(log, e),
  });
  await wakeups.start();
  shutdown.add('wake-up listener', () => wakeups.close());
  // Instances the other processes create count toward this store's re-planning as the table grows (plan-refresh.ts).
  store.followGrowth(wakeups);
  shutdown.checkpoint();
  const inspector = config.STATEKEEPER_INSPECT === 'on' ? startInspector(config.STATEKEEPER_INSPECT_PORT) : undefined;
  if (inspector) {
    shutdown.add('inspector relay', () => inspector.close());
    log.info(`statekeeper: Stately inspector relay: open ${inspector.url} in a browser`);
  }
  // Stable across restarts of this server, so a restarted process takes its own leases back at once.
  const workerId = config.STATEKEEPER_WORKER_ID ?? `${hostname()}:${config.dataDir}:${config.PORT}`;
  // The bundled workflows and the lab of external systems they call (LAB_URL: use a lab running elsewhere).
  const workflows = await bundledWorkflows({ databaseUrl: url, labUrl: config.LAB_URL, labPort: config.LAB_PORT });
  shutdown.add('lab', () => workflows.close());
  if (workflows.lab) log.info(`statekeeper: lab of external systems on ${workflows.lab.server.url} (GET /lab/records, POST /lab/faults)`);
  shutdown.checkpoint();
  const sealed = sealSecrets(store, config.STATEKEEPER_ENCRYPTION_KEYS, workflows.machines);
  // Webhook secrets are encrypted at rest and sealed payload fields opened for delivery when keys are configured.
  const pgOutbox = new PgOutboxStore(orm, store.origin);
  outboxStore = sealed.fields ? new SealedOutboxStore(pgOutbox, sealed.fields) : pgOutbox;
  const runtime = await createRuntime({
    store: sealed.store,
    outbox: {
      store: outboxStore,
      pollIntervalMs: config.STATEKEEPER_OUTBOX_POLL_MS,
      maxAttempts: config.STATEKEEPER_WEBHOOK_MAX_ATTEMPTS,
      timeoutMs: config.STATEKEEPER_WEBHOOK_TIMEOUT_MS,
      backoffMs: config.STATEKEEPER_WEBHOOK_BACKOFF_MS,
      maxBackoffMs: config.STATEKEEPER_WEBHOOK_MAX_BACKOFF_MS,
    },
    workerId,
    pollIntervalMs: config.STATEKEEPER_POLL_MS,
    leaseMs: config.STATEKEEPER_LEASE_MS,
    heartbeatMs: config.STATEKEEPER_HEARTBEAT_MS,
    minDelayMs: config.STATEKEEPER_MIN_DELAY_MS,
    transitionRateLimit: { maxTransitions: config.STATEKEEPER_MAX_TRANSITIONS, windowMs: config.STATEKEEPER_TRANSITION_WINDOW_MS },
    machines: workflows.machines.map((m) => ({ machine: m.machine, options: m.options })),
    steps: workflows.steps,
    onError: (e) => logBackgroundError(log, e),
    observer,
    wakeups,
    retention: {
      default: config.STATEKEEPER_RETENTION_DAYS
        ? { days: config.STATEKEEPER_RETENTION_DAYS, mode: config.STATEKEEPER_RETENTION_MODE }
        : undefined,
      intervalMs: config.STATEKEEPER_RETENTION_INTERVAL_MS,
      batchSize: config.STATEKEEPER_RETENTION_BATCH,
    },
    // Definitions are registered first: instances of them may be waiting to resume.
    resume: false,
  });
  shutdown.add('runtime', () => runtime.close());
  shutdown.checkpoint();
  // Workflows as configuration: the bundled folder, the user's (STATEKEEPER_WORKFLOWS_DIR), those registered at run time.
  const catalog = createCatalog(stepActors(Object.keys(workflows.steps)));
  const definitions = new DefinitionService(runtime, catalog, new PgDefinitionStore(orm));
  const loaded = await definitions.loadFolder(BUNDLED_DEFINITIONS_DIR);
  if (config.STATEKEEPER_WORKFLOWS_DIR) loaded.push(...(await definitions.loadFolder(config.STATEKEEPER_WORKFLOWS_DIR)));
  loaded.push(...(await definitions.restore()));
  log.info(`statekeeper: workflow definitions ${loaded.map((r) => r.ref).join(', ') || '(none)'}`);
  // Schedules declared by configuration, once every machine they start is registered; idempotent across restarts.
  const schedules = await configuredSchedules(config);
  for (const s of schedules) await runtime.schedules.define(s);
  if (schedules.length) log.info(`statekeeper: schedules ${schedules.map((s) => `${s.id} (${s.cron} ${s.timezone ?? 'UTC'})`).join(', ')}`);
  // Metrics, operator log lines and the live inspector, fed from the committed changes.
  const live =
    inspector &&
    liveInspection(inspector.adapter, (id, version) => runtime.registry.find(id, version)?.machine, { sanitize: (v) => redact(v) });
  observeChanges(runtime, combineObservers(metrics.observer, logObserver(log), live), {
    everyChange: live !== undefined,
    onError: (e) => logBackgroundError(log, e),
  });
  await runtime.resume();
  // HTTP API: credentials (API keys, JWTs, the development key on the embedded database) and limits.
  const { close: closeApiDeps, ...api } = await createApiDeps({
    orm,
    runtime,
    config,
    embedded: embedded !== undefined,
    log: (line) => log.info(line),
    wakeups,
  });
  shutdown.add('API key cache', closeApiDeps);
  // History hash chain: verified on request; its heads signed periodically when keys are configured.
  const chain = new PgHistoryChain(orm, parseCheckpointKeys(config.STATEKEEPER_HISTORY_KEYS));
  const stopCheckpoints = config.STATEKEEPER_HISTORY_KEYS
    ? startHistoryCheckpoints(chain, config.STATEKEEPER_CHECKPOINT_MS, (e) =>
        log.error({ err: e }, 'statekeeper: history checkpoint failed'),
      )
    : undefined;
  if (stopCheckpoints) shutdown.add('history checkpoints', stopCheckpoints);
  // Inbound webhooks: sources from the configuration, their delivery ids kept in the database (replays refused across restarts).
  const webhookSources = loadWebhookSources({ file: config.STATEKEEPER_WEBHOOKS_FILE, json: config.STATEKEEPER_WEBHOOKS });
  if (webhookSources.length) log.info(`statekeeper: webhooks on /v1/hooks/{${webhookSources.map((s) => s.name).join(',')}}`);
  const app = createApp({
    runtime,
    ...api,
    webhooks: { sources: webhookSources, deliveries: new PgWebhookDeliveryStore(orm) },
    definitions,
    verifyHistory: (id) => chain.verify(id),
    ready: async () => (await orm.checkConnection()).ok,
    sseKeepAliveMs: config.STATEKEEPER_SSE_KEEPALIVE_MS,
    log,
    metrics: { render: metrics.render, contentType: metrics.contentType, token: config.STATEKEEPER_METRICS_TOKEN },
    inspector,
  });
  const server = serve({ fetch: app.fetch, port: config.PORT, hostname: '127.0.0.1' }, (info) => {
    log.info(`statekeeper: listening on http://127.0.0.1:${info.port} (GET /healthz, GET /metrics)`);
    log.info(`statekeeper: dashboard on http://127.0.0.1:${info.port}/ (API reference: /docs)`);
  });
  answerClientErrors(server as Server);
  shutdown.add('HTTP server', () => closeServer(server));
  shutdown.ready();
}

/**
 * With `STATEKEEPER_ENCRYPTION_KEYS`, what machines mark secret (`meta.secrets`) is
 * encrypted before it reaches the database and decrypted only in this process; the
 * same fields also seal webhook secrets (see `SealedOutboxStore`).
 */
function sealSecrets(
  store: InstanceStore,
  keys: string | undefined,
  machines: readonly { machine: AnyStateMachine }[],
): { store: InstanceStore; fields?: SecretFields } {
  if (!keys) return { store };
  const policies = new Map(machines.map(({ machine }) => [machine.id, secretPolicyOf(machine)]));
  console.log(`statekeeper: encrypting secret fields of ${[...policies.values()].filter(Boolean).length} machines at rest`);
  const fields = new SecretFields(new FieldCipher(parseEncryptionKeys(keys)));
  return { store: new SealedStore(store, fields, (id) => policies.get(id)), fields };
}

/** Background failures (pollers, steps): one line while the database is away, the whole error otherwise. */
function logBackgroundError(log: Logger, error: unknown): void {
  if (isDatabaseUnavailable(error)) log.error(`statekeeper: database unavailable (${(error as Error).message}); retrying`);
  else log.error({ err: error }, 'statekeeper: background work failed');
}

/** Stops accepting connections and ends the open ones (event streams would hold the stop forever). */
function closeServer(server: ReturnType<typeof serve>): void {
  server.close();
  if ('closeAllConnections' in server) server.closeAllConnections();
}

const shutdown = createShutdown();
shutdown.listen();
main(shutdown).catch((e: unknown) => {
  if (e instanceof StopRequested) return shutdown.stop(e.message);
  console.error(`statekeeper: start-up failed: ${e instanceof Error ? e.message : String(e)}`);
  return shutdown.stop('start-up failed', 1);
});
