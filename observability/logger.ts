import { context, trace } from '@opentelemetry/api';
import { pino, type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { RuntimeObserver } from '../runtime/observer.ts';
import { factsOf } from './transition-facts.ts';

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** pino level (`LOG_LEVEL`): trace, debug, info, warn, error, fatal, silent. Default info. */
  level?: string;
  /** Human-readable lines (pino-pretty) instead of JSON; default: when stdout is a terminal. */
  pretty?: boolean;
  /** Where lines go (default stdout); tests pass a stream that collects them. */
  destination?: DestinationStream;
}

/** Log levels `LOG_LEVEL` accepts. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/**
 * The server's logger: one JSON object per line, each carrying the active
 * span's `trace_id` and `span_id` (OpenTelemetry's log correlation fields), so
 * a line leads to its trace and back. On a terminal the lines are prettified.
 *
 * @example
 * ```ts
 * const log = createLogger({ level: process.env.LOG_LEVEL });
 * log.info({ instance_id: id }, 'instance started');
 * ```
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const usePretty = options.pretty ?? (options.destination === undefined && process.stdout.isTTY === true);
  const destination =
    options.destination ??
    (usePretty ? pretty({ colorize: true, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }) : undefined);
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: 'statekeeper' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      mixin: traceFields,
    },
    destination,
  );
}

/** `trace_id` / `span_id` of the active span, when there is one. */
export function traceFields(): Record<string, string> {
  const sc = trace.getSpanContext(context.active());
  return sc && trace.isSpanContextValid(sc) ? { trace_id: sc.traceId, span_id: sc.spanId } : {};
}

/**
 * Log lines for what an operator must see: each step failure and retry, each
 * compensation and failed compensation, each lease takeover, each finished
 * instance; every line names its instance (`instance_id`).
 */
export function logObserver(log: Logger): RuntimeObserver {
  return {
    transition(t) {
      const f = factsOf(t);
      const base = { instance_id: t.instanceId, machine: `${t.machineId}@${t.machineVersion}`, event: t.event.type };
      log.debug(
        {
          ...base,
          source: t.source,
          handled: t.handled,
          state: t.after.value,
          duration_ms: t.durationMs === undefined ? undefined : round(t.durationMs),
        },
        'event applied',
      );
      if (f.rollingBack) log.warn({ ...base, state: t.after.value }, 'rolling back: compensating completed steps');
      if (f.compensation?.outcome === 'done') log.info({ ...base, compensation: f.compensation.invokeId }, 'compensation done');
      if (f.compensation?.outcome === 'failed')
        log.error({ ...base, compensation: f.compensation.invokeId, error: errorOf(t.event) }, 'compensation failed');
      if (f.compensationFailed)
        log.error({ ...base, state: t.after.value }, 'compensation failed for good: waiting for an operator (retry or resolve)');
      if (f.finished) log.info({ ...base, outcome: f.finished }, 'instance finished');
    },
    stepAttempt(s) {
      if (s.outcome !== 'failed') return;
      const fields = {
        instance_id: s.instanceId,
        machine: s.machineId,
        step: s.step,
        invoke_id: s.invokeId,
        attempt: s.attempt,
        compensation: s.compensation,
        error: s.error,
      };
      if (s.next === 'retry')
        log.warn(
          { ...fields, retry_in_ms: s.retryDelayMs },
          s.compensation ? 'compensation attempt failed, retrying' : 'step attempt failed, retrying',
        );
      else log.error(fields, s.compensation ? 'compensation step failed after its retries' : 'step failed after its retries');
    },
    delivery(d) {
      if (d.outcome === 'delivered') return;
      const fields = { delivery_id: d.deliveryId, kind: d.subscriptionKind, attempt: d.attempt, error: d.error };
      if (d.outcome === 'dead') log.error(fields, 'outbox delivery dead-lettered after its attempts (POST /v1/deliveries/{id}/redeliver)');
      else log.warn(fields, 'outbox delivery attempt failed, retrying');
    },
    claimed(c) {
      for (const e of c.effects)
        if (e.takeover)
          log.warn(
            { instance_id: e.instanceId, effect_id: e.id, kind: e.kind, name: e.name, owner: c.owner },
            'lease takeover: resuming an effect another process held',
          );
    },
    leaseLost(l) {
      log.warn(
        { owner: l.owner, effect_ids: l.effectIds },
        'lease lost: this process stalled past its lease and another took these effects over; dropped here',
      );
    },
  };
}

function errorOf(event: Record<string, unknown>): unknown {
  return event.error;
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
