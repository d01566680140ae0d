/**
 * A runtime in a child process for outbox crash tests: the `emitter` machine on DATABASE_URL, delivering its
 * outbox rows to the subscriptions in the database (webhooks in the test process, which survive this
 * process's SIGKILL). Env: DATABASE_URL, WORKER_ID. IPC as `serve-ipc.ts` (start, send, …).
 */
import { openDatabase } from '../../adapters/postgres/orm.ts';
import { PgInstanceStore } from '../../adapters/postgres/pg-instance-store.ts';
import { PgOutboxStore } from '../../adapters/postgres/pg-outbox-store.ts';
import { createRuntime } from '../../runtime/index.ts';
import { emitter } from '../fixtures/emitter.machine.ts';
import { serveRuntimeOverIpc } from './serve-ipc.ts';

const orm = await openDatabase({ url: process.env.DATABASE_URL!, poolSize: 5 });
const store = new PgInstanceStore(orm);
const runtime = await createRuntime({
  store,
  workerId: process.env.WORKER_ID ?? 'outbox-worker',
  pollIntervalMs: 100,
  machines: [{ machine: emitter, options: { version: '1' } }],
  outbox: { store: new PgOutboxStore(orm, store.origin), maxAttempts: 50, backoffMs: 20, maxBackoffMs: 200, timeoutMs: 10_000 },
});

serveRuntimeOverIpc(runtime);
