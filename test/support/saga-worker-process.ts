/**
 * A runtime in a child process for saga crash tests: the bundled machines
 * on DATABASE_URL, their steps calling the lab service at LAB_URL over HTTP.
 * The lab lives in the test process, so it survives this process's SIGKILL.
 *
 * Every step attempt is logged to `test_step_log` through a separate
 * connection: `start` before the step calls the lab, `done` once the lab
 * answered (before the runtime commits the result).
 *
 * Env: DATABASE_URL, LAB_URL, WORKER_ID, HANG_AFTER_STEP (actor name of a
 * step that, in this process, never returns after the lab applied its call:
 * the process is then killed between the step and its commit).
 * IPC: { id, op, args } → { id, ok, result } | { id, ok: false, error }.
 */
import pg from 'pg';
import { createBundledSteps } from '../../actors/index.ts';
import type { StepContext, StepImplementation } from '../../runtime/step-types.ts';
import { createHttpClients } from '../../lab/index.ts';
import { openDatabase } from '../../adapters/postgres/orm.ts';
import { PgInstanceStore } from '../../adapters/postgres/pg-instance-store.ts';
import { bundledMachines } from '../../machines/index.ts';
import { createRuntime } from '../../runtime/index.ts';
import { serveRuntimeOverIpc } from './serve-ipc.ts';

const url = process.env.DATABASE_URL!;
const hangAfter = process.env.HANG_AFTER_STEP;
const log = new pg.Pool({ connectionString: url, max: 2 });
await log.query(`create table if not exists test_step_log (
  id serial primary key, step text, idempotency_key text, attempt int, phase text, pid int, at timestamptz default clock_timestamp())`);
const note = (step: string, ctx: StepContext, phase: 'start' | 'done') =>
  log.query('insert into test_step_log (step, idempotency_key, attempt, phase, pid) values ($1, $2, $3, $4, $5)', [
    step,
    ctx.idempotencyKey,
    ctx.attempt,
    phase,
    process.pid,
  ]);

const logged = (name: string, impl: StepImplementation): StepImplementation => ({
  ...impl,
  run: async (input, ctx) => {
    await note(name, ctx, 'start');
    const output = await impl.run(input, ctx);
    await note(name, ctx, 'done');
    if (name === hangAfter) await new Promise(() => {}); // applied in the lab, never committed: the test kills us here
    return output;
  },
});
const steps = Object.fromEntries(
  Object.entries(createBundledSteps(createHttpClients(process.env.LAB_URL!))).map(([name, impl]) => [name, logged(name, impl)]),
);

const orm = await openDatabase({ url, poolSize: 5 });
const runtime = await createRuntime({
  store: new PgInstanceStore(orm),
  workerId: process.env.WORKER_ID ?? 'saga-worker',
  pollIntervalMs: 100,
  machines: bundledMachines.map((b) => ({ machine: b.machine, options: b.options })),
  steps,
});

serveRuntimeOverIpc(runtime);
