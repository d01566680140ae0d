import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { openDatabase } from '../../adapters/postgres/orm.ts';
import { PgInstanceStore } from '../../adapters/postgres/pg-instance-store.ts';
import { createRuntime, SPAN, ATTR, type Runtime } from '../../runtime/index.ts';
import { createSimulation } from '../../runtime/testing/index.ts';
import { deadline, threeSteps } from '../fixtures/machines.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { eventually } from '../support/poll.ts';
import { startWorker, type Worker } from '../support/worker.ts';
import { parentOf, startTestTracing, stopTestTracing } from './trace-support.ts';
import { createMetrics } from '../../observability/metrics.ts';
import { histogram, parseScrape } from '../support/prometheus.ts';

/**
 * A workflow is one trace, whatever process or day its spans come from: the
 * trace context stored with the instance is the parent of every later span.
 */
describe('one trace per workflow', () => {
  const t = startTestTracing();
  let db: TestDatabase;
  const workers: Worker[] = [];
  afterAll(async () => {
    for (const w of workers) await w.kill().catch(() => undefined);
    await db?.drop();
    await stopTestTracing(t);
  });
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  const spans = () => t.exporter.getFinishedSpans();
  const ofInstance = (id: string, name: string): ReadableSpan[] =>
    spans().filter((s) => s.name === name && s.attributes[ATTR.instanceId] === id);

  test('across a timer: the timer firing and the event it delivers continue the start span’s trace', async () => {
    const metrics = createMetrics();
    const sim = await createSimulation({ machines: [{ machine: deadline, options: { version: '1' } }], observer: metrics.observer });
    const { id } = await sim.runtime.start({ machine: 'deadline' });
    const [start] = ofInstance(id, SPAN.start);
    expect(start).toBeDefined();
    await sim.advance(5000);
    expect((await sim.runtime.get(id)).value).toBe('expired');
    const [timer] = ofInstance(id, SPAN.timer);
    expect(timer).toBeDefined();
    expect(timer!.spanContext().traceId).toBe(start!.spanContext().traceId);
    expect(parentOf(timer!)).toBe(start!.spanContext().spanId);
    expect(timer!.attributes[ATTR.timerLagMs]).toBe(0);
    const fired = ofInstance(id, SPAN.event).find((s) => s.attributes[ATTR.eventSource] === 'timer');
    expect(fired?.spanContext().traceId).toBe(start!.spanContext().traceId);
    // Simulated time fires a timer exactly at its due time: one lag observation of 0 s.
    expect(await histogram(metrics.registry, 'statekeeper_timer_lag_seconds')).toEqual({ count: 1, sum: 0 });
    await sim.runtime.close();
  });

  test('across SIGKILL: the step re-run by a new process and the rest of the run join the first process’s trace', {
    timeout: 120_000,
  }, async () => {
    const pool = new pg.Pool({ connectionString: db.url, max: 2 });
    const q = async (sql: string, params: unknown[] = []) => (await pool.query(sql, params)).rows;
    const first = await startWorker({ DATABASE_URL: db.url, WORKER_ID: 'trace-worker', HANG_STEP: 'stepB', TRACING: 'on' });
    workers.push(first);
    const { id } = await first.call('start', { machine: 'three-steps', input: { n: 1 } });
    await eventually(async () => (await q(`select 1 from test_step_log where step = 'stepB'`)).length > 0, 'stepB to start');
    await first.kill();
    // The trace the first process started, as it stored it with the instance.
    const [row] = await q(`select trace_context from sk_instance where id = $1`, [id]);
    const [, traceId, startSpanId] = String(row.trace_context.traceparent).split('-');
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);

    const orm = await openDatabase({ url: db.url, poolSize: 3 });
    const metrics = createMetrics();
    let runtime: Runtime | undefined;
    try {
      runtime = await createRuntime({
        store: new PgInstanceStore(orm, { onCommitBatch: metrics.observer.commitBatch }),
        observer: metrics.observer,
        workerId: 'trace-worker',
        pollIntervalMs: 100,
        machines: [{ machine: threeSteps, options: { version: '1' } }],
        steps: {
          stepA: async () => ({ a: 0 }),
          stepB: async ({ n }: { n: number }) => ({ b: n + 2 }),
          stepC: async ({ n }: { n: number }) => ({ c: n + 3 }),
        },
      });
      await runtime.waitFor(id, (v) => v.status === 'done', 30_000);
      await runtime.settled();
      const stepB = ofInstance(id, SPAN.step).find((s) => s.attributes[ATTR.stepName] === 'stepB');
      expect(stepB?.attributes[ATTR.attempt]).toBe(2);
      expect(stepB?.spanContext().traceId).toBe(traceId);
      expect(parentOf(stepB!)).toBe(startSpanId);
      const later = [...ofInstance(id, SPAN.event), ...ofInstance(id, SPAN.step)];
      expect(later.length).toBeGreaterThanOrEqual(3);
      expect(new Set(later.map((s) => s.spanContext().traceId))).toEqual(new Set([traceId]));
      // Commit batches serve many instances at once: their spans are roots of their own, with the batch size.
      const batch = spans().find((s) => s.name === SPAN.commitBatch);
      expect(batch?.attributes['db.operation.batch.size']).toBeGreaterThanOrEqual(1);
      expect(parentOf(batch!)).toBeUndefined();
      const scrape = parseScrape(await metrics.render());
      expect(scrape.value('statekeeper_poller_claims_total', { kind: 'step' })).toBe(1);
      expect(scrape.value('statekeeper_step_attempts_total', { step: 'stepB', outcome: 'done' })).toBe(1);
      expect((await histogram(metrics.registry, 'statekeeper_commit_batch_size', { kind: 'commit' })).count).toBeGreaterThanOrEqual(2);
    } finally {
      await runtime?.close();
      await orm.close();
      await pool.end();
    }
  });
});
