/**
 * The seven-phase audit in a child process for crash tests, on DATABASE_URL,
 * with Planning's SLA shortened to AUDIT_PLANNING_SLA_MS (a template
 * parameter) so its schedule timers fall due within seconds of real time.
 * Same IPC protocol as `worker-process.ts`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { openDatabase } from '../../adapters/postgres/orm.ts';
import { PgInstanceStore } from '../../adapters/postgres/pg-instance-store.ts';
import { BUNDLED_DEFINITIONS_DIR } from '../../api/workflows.ts';
import { createCatalog, DefinitionService, MemoryDefinitionStore } from '../../definitions/index.ts';
import { createRuntime } from '../../runtime/index.ts';
import { serveRuntimeOverIpc } from './serve-ipc.ts';

const url = process.env.DATABASE_URL!;
const slaMs = Number(process.env.AUDIT_PLANNING_SLA_MS ?? 3000);
const orm = await openDatabase({ url, poolSize: 5 });
const runtime = await createRuntime({
  store: new PgInstanceStore(orm),
  workerId: process.env.WORKER_ID ?? 'audit-worker',
  pollIntervalMs: 100,
  resume: false,
});
const definitions = new DefinitionService(runtime, createCatalog(), new MemoryDefinitionStore());
await definitions.registerPhases(readFileSync(path.join(BUNDLED_DEFINITIONS_DIR, 'audit.yaml'), 'utf8'), {
  parameters: { sla: { planning: slaMs / 86_400_000 }, atRisk: Number(process.env.AUDIT_AT_RISK ?? 0.25) },
});
await runtime.resume();
serveRuntimeOverIpc(runtime);
