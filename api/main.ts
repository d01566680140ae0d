import { serve } from '@hono/node-server';
import path from 'node:path';
import { hostname } from 'node:os';
import { openDatabase, PgInstanceStore, startEmbeddedPostgres, type EmbeddedPostgresServer } from '../adapters/postgres/index.ts';
import { createRuntime } from '../runtime/index.ts';
import { createApiDeps } from './api-deps.ts';
import { createApp } from './app.ts';
import { loadConfig } from './config.ts';
import { bundledWorkflows } from './workflows.ts';

/**
 * The composition root: configuration, database (embedded or DATABASE_URL),
 * runtime with the bundled machines and steps, HTTP server, graceful stop.
 */
async function main() {
  const config = loadConfig();
  let embedded: EmbeddedPostgresServer | undefined;
  let url = config.DATABASE_URL;
  if (!url) {
    const dataDir = path.join(config.dataDir, 'pg');
    embedded = await startEmbeddedPostgres({ dataDir });
    url = embedded.url;
    console.log(`statekeeper: embedded PostgreSQL, data lives in ${dataDir}`);
  } else {
    console.log(`statekeeper: using the PostgreSQL server in DATABASE_URL`);
  }
  const orm = await openDatabase({ url });
  const store = new PgInstanceStore(orm);
  // Stable across restarts of this server, so a restarted process takes its own leases back at once.
  const workerId = config.STATEKEEPER_WORKER_ID ?? `${hostname()}:${config.dataDir}:${config.PORT}`;
  // The bundled workflows and the lab of external systems they call (LAB_URL: use a lab running elsewhere).
  const workflows = await bundledWorkflows({ databaseUrl: url, labUrl: config.LAB_URL, labPort: config.LAB_PORT });
  if (workflows.lab) console.log(`statekeeper: lab of external systems on ${workflows.lab.server.url} (GET /lab/records, POST /lab/faults)`);
  const runtime = await createRuntime({
    store,
    workerId,
    pollIntervalMs: config.STATEKEEPER_POLL_MS,
    machines: workflows.machines.map((m) => ({ machine: m.machine, options: m.options })),
    steps: workflows.steps,
  });
  const machineInfo = Object.fromEntries(workflows.machines.filter((m) => m.inputSchema).map((m) => [m.machine.id, { inputSchema: m.inputSchema! }]));
  // HTTP API: credentials (API keys, JWTs, the development key on the embedded database) and limits.
  const api = await createApiDeps({ orm, runtime, config, embedded: embedded !== undefined });
  const app = createApp({ runtime, ...api, machineInfo, ready: async () => (await orm.checkConnection()).ok });
  const server = serve({ fetch: app.fetch, port: config.PORT, hostname: '127.0.0.1' }, (info) => {
    console.log(`statekeeper: listening on http://127.0.0.1:${info.port} (GET /healthz)`);
  });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`statekeeper: ${signal}, stopping`);
    server.close();
    await runtime.close();
    await workflows.close();
    await store.close();
    await embedded?.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
