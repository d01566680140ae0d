import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RuntimeObserver } from '../runtime/observer.ts';
import { factsOf } from './transition-facts.ts';

/** Cheap reads from the store for the gauges, run at scrape time. */
export interface MetricsSources {
  /** Instances by machine and status (one grouped count). */
  instanceCounts?: () => Promise<{ machineId: string; status: string; count: number }[]>;
  /** Open effects leased to a live owner. */
  openLeases?: () => Promise<number>;
  /** Pending outbox deliveries and the age of the oldest one's row. */
  outboxBacklog?: () => Promise<{ pending: number; oldestPendingMs: number }>;
}

/** The Prometheus side of the server: a registry to scrape and the runtime observer that feeds it. */
export interface Metrics {
  readonly registry: Registry;
  readonly observer: RuntimeObserver;
  /** The exposition text (`GET /metrics`). */
  render(): Promise<string>;
  readonly contentType: string;
}

const SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const LAG_SECONDS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 3600];

/**
 * Prometheus metrics through prom-client (names in the README's metric
 * table). Counters and histograms are fed by the runtime observer; the
 * instance and lease gauges read the store when scraped.
 *
 * @example
 * ```ts
 * const metrics = createMetrics({ instanceCounts: () => counts(orm) });
 * const runtime = await createRuntime({ store, observer: metrics.observer });
 * app.get('/metrics', async (c) => c.body(await metrics.render(), 200, { 'Content-Type': metrics.contentType }));
 * ```
 */
export function createMetrics(sources: MetricsSources = {}): Metrics {
  const registry = new Registry();
  const reg = [registry];
  const started = new Counter({
    name: 'statekeeper_instances_started_total',
    help: 'Instances started',
    labelNames: ['machine'],
    registers: reg,
  });
  const finished = new Counter({
    name: 'statekeeper_instances_finished_total',
    help: 'Instances finished, by outcome (a saga: completed, rolled_back, cancelled; else done, error, stopped)',
    labelNames: ['machine', 'outcome'],
    registers: reg,
  });
  const failed = new Counter({
    name: 'statekeeper_instances_failed_total',
    help:
      'Instances that ended in error, by code: transition_rate_exceeded (a runaway stopped), delay_too_short, ' +
      'transition_failed, …; machine for an error the machine raised',
    labelNames: ['machine', 'code'],
    registers: reg,
  });
  new Gauge({
    name: 'statekeeper_instances',
    help: 'Stored instances by machine and status (read from the store at scrape time)',
    labelNames: ['machine', 'status'],
    registers: reg,
    async collect() {
      if (!sources.instanceCounts) return;
      this.reset();
      for (const r of await sources.instanceCounts()) this.set({ machine: r.machineId, status: r.status }, r.count);
    },
  });
  const eventApply = new Histogram({
    name: 'statekeeper_event_apply_seconds',
    help: 'Time to apply one event: decide and commit',
    labelNames: ['machine', 'source'],
    buckets: SECONDS,
    registers: reg,
  });
  const stepDuration = new Histogram({
    name: 'statekeeper_step_duration_seconds',
    help: 'Duration of one step attempt',
    labelNames: ['step', 'outcome'],
    buckets: SECONDS,
    registers: reg,
  });
  const stepAttempts = new Counter({
    name: 'statekeeper_step_attempts_total',
    help: 'Step attempts, by outcome (done, failed, aborted)',
    labelNames: ['step', 'outcome'],
    registers: reg,
  });
  const retries = new Counter({
    name: 'statekeeper_step_retries_total',
    help: 'Failed step attempts followed by another attempt',
    labelNames: ['step'],
    registers: reg,
  });
  const compensations = new Counter({
    name: 'statekeeper_compensations_total',
    help: 'Compensations (undo steps) that came back, by outcome (done; failed after their retries)',
    labelNames: ['machine', 'outcome'],
    registers: reg,
  });
  const compensationsFailed = new Counter({
    name: 'statekeeper_compensations_failed_total',
    help: 'Instances that entered compensation_failed: an undo failed for good and waits for an operator',
    labelNames: ['machine'],
    registers: reg,
  });
  const timerLag = new Histogram({
    name: 'statekeeper_timer_lag_seconds',
    help: 'Delay from a timer due time to its delivery',
    buckets: LAG_SECONDS,
    registers: reg,
  });
  const batchSize = new Histogram({
    name: 'statekeeper_commit_batch_size',
    help: 'Commits grouped in one statement',
    labelNames: ['kind'],
    buckets: [1, 2, 4, 8, 16, 32, 48],
    registers: reg,
  });
  const batchLatency = new Histogram({
    name: 'statekeeper_commit_batch_seconds',
    help: 'Latency of one group-commit statement',
    labelNames: ['kind'],
    buckets: SECONDS,
    registers: reg,
  });
  new Gauge({
    name: 'statekeeper_open_leases',
    help: 'Open effects leased to a live owner (read from the store at scrape time)',
    registers: reg,
    async collect() {
      if (sources.openLeases) this.set(await sources.openLeases());
    },
  });
  const claims = new Counter({
    name: 'statekeeper_poller_claims_total',
    help: 'Effects claimed by the poller, by kind',
    labelNames: ['kind'],
    registers: reg,
  });
  const takeovers = new Counter({
    name: 'statekeeper_lease_takeovers_total',
    help: 'Effects resumed after the process holding them stopped',
    labelNames: ['kind'],
    registers: reg,
  });

  const deliveries = new Counter({
    name: 'statekeeper_outbox_deliveries_total',
    help: 'Outbox delivery attempts, by subscription kind (webhook, handler) and outcome (delivered; failed: retried; dead)',
    labelNames: ['kind', 'outcome'],
    registers: reg,
  });
  const deliveryLag = new Histogram({
    name: 'statekeeper_outbox_delivery_lag_seconds',
    help: 'From the commit that emitted an outbox row to its delivery',
    buckets: LAG_SECONDS,
    registers: reg,
  });
  new Gauge({
    name: 'statekeeper_outbox_pending',
    help: 'Outbox deliveries not yet delivered or dead-lettered (read from the store at scrape time)',
    registers: reg,
    async collect() {
      if (sources.outboxBacklog) this.set((await sources.outboxBacklog()).pending);
    },
  });
  new Gauge({
    name: 'statekeeper_outbox_oldest_pending_seconds',
    help: 'Age of the oldest pending delivery: how far delivery lags behind the commits (read at scrape time)',
    registers: reg,
    async collect() {
      if (sources.outboxBacklog) this.set((await sources.outboxBacklog()).oldestPendingMs / 1000);
    },
  });
  const retentionRows = new Counter({
    name: 'statekeeper_retention_rows_total',
    help: 'Rows retention removed from the live tables, by table (instances, events, effects, outbox, tasks, checkpoints) and mode',
    labelNames: ['table', 'mode'],
    registers: reg,
  });

  const observer: RuntimeObserver = {
    transition(t) {
      const f = factsOf(t);
      if (f.started) started.inc({ machine: t.machineId });
      else if (t.durationMs !== undefined) eventApply.observe({ machine: t.machineId, source: t.source ?? 'unknown' }, t.durationMs / 1000);
      if (f.finished) finished.inc({ machine: t.machineId, outcome: f.finished });
      if (f.errorCode) failed.inc({ machine: t.machineId, code: f.errorCode });
      if (f.compensation) compensations.inc({ machine: t.machineId, outcome: f.compensation.outcome });
      if (f.compensationFailed) compensationsFailed.inc({ machine: t.machineId });
    },
    stepAttempt(s) {
      stepAttempts.inc({ step: s.step, outcome: s.outcome });
      stepDuration.observe({ step: s.step, outcome: s.outcome }, s.durationMs / 1000);
      if (s.next === 'retry') retries.inc({ step: s.step });
    },
    timerFired(t) {
      timerLag.observe(Math.max(0, t.lagMs) / 1000);
    },
    claimed(c) {
      for (const e of c.effects) {
        claims.inc({ kind: e.kind });
        if (e.takeover) takeovers.inc({ kind: e.kind });
      }
    },
    retention(r) {
      for (const [table, n] of Object.entries(r.counts)) if (n > 0) retentionRows.inc({ table, mode: r.mode }, n);
    },
    commitBatch(b) {
      batchSize.observe({ kind: b.kind }, b.size);
      batchLatency.observe({ kind: b.kind }, b.durationMs / 1000);
    },
    delivery(d) {
      deliveries.inc({ kind: d.subscriptionKind, outcome: d.outcome });
      if (d.outcome === 'delivered') deliveryLag.observe(Math.max(0, d.lagMs) / 1000);
    },
  };
  return { registry, observer, render: () => registry.metrics(), contentType: registry.contentType };
}
