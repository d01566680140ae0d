/**
 * A runtime in a child process for crash tests. It runs the fixture machines
 * on DATABASE_URL and logs every step attempt to `test_step_log` (through its
 * own connection, committed before the step "does" anything), so the test can
 * see what ran even after this process is killed with SIGKILL.
 *
 * Env: DATABASE_URL, WORKER_ID, HANG_STEP (name of a step that never returns
 * in this process), FLAKY_HANG_FROM (the `flaky` machine's step fails every call before this attempt
 * number and never returns from it on; unset: it always fails), TRACING=on (a trace SDK without an exporter, so instances
 * store a real trace context), STALL_STEP (that step returns only once its effect row was closed by another process,
 * then logs `<step>:returned`), POLL_MS (poll interval, default 100), HEARTBEAT_MS (default: the runtime's; 0 never
 * renews leases, as a process whose heartbeat fails). IPC: { op: 'start', options } → { ok, result } | { ok: false, error }.
 */
import pg from 'pg';
import { openDatabase } from '../../adapters/postgres/orm.ts';
import { PgInstanceStore } from '../../adapters/postgres/pg-instance-store.ts';
import { createRuntime } from '../../runtime/index.ts';
import type { StepContext } from '../../runtime/step-types.ts';
import { deadline, flaky, threeSteps } from '../fixtures/machines.ts';
import { serveRuntimeOverIpc } from './serve-ipc.ts';
import { startTracing } from '../../observability/otel.ts';

if (process.env.TRACING === 'on') startTracing({ env: {}, spanProcessors: [] });

const url = process.env.DATABASE_URL!;
const hang = process.env.HANG_STEP;
const log = new pg.Pool({ connectionString: url, max: 2 });
await log.query(
  `create table if not exists test_step_log (id serial primary key, step text, idempotency_key text, attempt int, pid int,
    at timestamptz default clock_timestamp())`,
);

const logged = (name: string, result: (n: number) => object) => async (input: { n: number }, ctx: StepContext) => {
  await log.query('insert into test_step_log (step, idempotency_key, attempt, pid) values ($1, $2, $3, $4)', [
    name,
    ctx.idempotencyKey,
    ctx.attempt,
    process.pid,
  ]);
  if (name === hang) await new Promise(() => {}); // in flight forever: the test kills us here
  if (name === process.env.STALL_STEP) {
    // A stalled owner: its result comes only after another process took the step over and committed its own.
    const closed = async () =>
      (await log.query(`select 1 from sk_effect where id = $1 and status <> 'pending'`, [ctx.idempotencyKey])).rowCount;
    while (!(await closed())) await new Promise((r) => setTimeout(r, 50));
    await log.query('insert into test_step_log (step, idempotency_key, attempt, pid) values ($1, $2, $3, $4)', [
      `${name}:returned`,
      ctx.idempotencyKey,
      ctx.attempt,
      process.pid,
    ]);
  }
  return result(input.n);
};

const hangFrom = Number(process.env.FLAKY_HANG_FROM ?? Number.POSITIVE_INFINITY);
const flakyStep = async (_input: unknown, ctx: StepContext) => {
  await log.query('insert into test_step_log (step, idempotency_key, attempt, pid) values ($1, $2, $3, $4)', [
    'flakyStep',
    ctx.idempotencyKey,
    ctx.attempt,
    process.pid,
  ]);
  if (ctx.attempt >= hangFrom) await new Promise(() => {}); // in flight forever: the test kills us here
  throw new Error(`flaky call ${ctx.attempt} failed`);
};

const orm = await openDatabase({ url, poolSize: 5 });
const runtime = await createRuntime({
  store: new PgInstanceStore(orm),
  workerId: process.env.WORKER_ID ?? 'crash-worker',
  pollIntervalMs: Number(process.env.POLL_MS ?? 100),
  heartbeatMs: process.env.HEARTBEAT_MS === undefined ? undefined : Number(process.env.HEARTBEAT_MS),
  machines: [
    { machine: threeSteps, options: { version: '1' } },
    { machine: deadline, options: { version: '1' } },
    { machine: flaky, options: { version: '1' } },
  ],
  steps: {
    stepA: logged('stepA', (n) => ({ a: n + 1 })),
    stepB: logged('stepB', (n) => ({ b: n + 2 })),
    stepC: logged('stepC', (n) => ({ c: n + 3 })),
    flakyStep,
  },
});

serveRuntimeOverIpc(runtime);
