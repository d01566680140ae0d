import {
  context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  trace,
  SpanStatusCode,
  type Context,
  type Link,
  type Span,
  type SpanKind,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

/**
 * Tracing inside the runtime: only `@opentelemetry/api`, which is a no-op until
 * the composition root installs an SDK (`observability/otel.ts`). Span and
 * attribute names live here, in one table, so dashboards, tests and the README
 * agree. Where OpenTelemetry has a semantic convention (HTTP, database) the
 * spans use it instead (`observability/`, `adapters/postgres/`).
 */

/** Span names. */
export const SPAN = {
  /** An instance is created (its first commit). Root of the workflow's trace unless a request started it. */
  start: 'statekeeper.start',
  /** One event applied to an instance: decide, commit. */
  event: 'statekeeper.event',
  /** One attempt of a step. */
  step: 'statekeeper.step',
  /** One attempt of a compensation (a step invoked from a state tagged `rolling_back`). */
  compensation: 'statekeeper.compensation',
  /** A durable timer fired and its event was delivered. */
  timer: 'statekeeper.timer',
  /** One group-commit statement (several instances' commits in one round trip). */
  commitBatch: 'statekeeper.commit_batch',
  /** An operator's migration of an instance to another version (its dry run too). */
  migrate: 'statekeeper.migrate',
} as const;

/** `statekeeper.*` attribute names (README: "Tracing, metrics and logs"). */
export const ATTR = {
  instanceId: 'statekeeper.instance.id',
  machine: 'statekeeper.machine',
  tenant: 'statekeeper.tenant',
  eventType: 'statekeeper.event.type',
  eventSource: 'statekeeper.event.source',
  stateBefore: 'statekeeper.state.before',
  stateAfter: 'statekeeper.state.after',
  handled: 'statekeeper.event.handled',
  status: 'statekeeper.instance.status',
  stepName: 'statekeeper.step.name',
  invokeId: 'statekeeper.step.invoke_id',
  idempotencyKey: 'statekeeper.step.idempotency_key',
  attempt: 'statekeeper.step.attempt',
  outcome: 'statekeeper.step.outcome',
  timerName: 'statekeeper.timer.name',
  timerLagMs: 'statekeeper.timer.lag_ms',
  batchKind: 'statekeeper.commit.kind',
  migrationFrom: 'statekeeper.migration.from',
  migrationTo: 'statekeeper.migration.to',
  migrationDryRun: 'statekeeper.migration.dry_run',
} as const;

/** The runtime's tracer (a no-op until an SDK is registered). */
export const tracer = trace.getTracer('statekeeper');

// W3C trace context is what we store with an instance, whatever propagator the app configured for HTTP.
const w3c = new W3CTraceContextPropagator();

/** Serialises the active trace context (W3C traceparent) to store with an instance. */
export function captureTraceContext(): Record<string, string> | null {
  const carrier: Record<string, string> = {};
  w3c.inject(context.active(), carrier, defaultTextMapSetter);
  return Object.keys(carrier).length ? carrier : null;
}

/**
 * The stored trace context as a parent, so an instance that resumes after a
 * restart or a week-long timer continues the trace it started in.
 *
 * @remarks Parent rather than link: the operators want one trace per
 * workflow, whatever process or day a span comes from. What caused the event
 * right now (an HTTP request with its own `traceparent`) is kept as a span
 * link instead, see {@link inSpan}.
 */
export function storedContext(carrier: Record<string, string> | null | undefined): Context {
  return carrier ? w3c.extract(context.active(), carrier, defaultTextMapGetter) : context.active();
}

/** Options of {@link inSpan} beyond name, parent and attributes. */
export interface SpanOptions {
  kind?: SpanKind;
}

/**
 * Runs `fn` in a span under `parent`, recording an exception and ending on
 * completion. When the active context (say, the HTTP request being served)
 * belongs to another trace than `parent`, the new span links to it, so a
 * request's trace and the workflow's trace can be followed into each other.
 */
export async function inSpan<T>(
  name: string,
  parent: Context,
  attrs: Record<string, string | number | boolean>,
  fn: (span: Span) => Promise<T>,
  options: SpanOptions = {},
): Promise<T> {
  const links = causeLink(parent);
  return tracer.startActiveSpan(name, { attributes: attrs, kind: options.kind, links }, parent, async (span) => {
    try {
      return await fn(span);
    } catch (e) {
      span.recordException(e as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (e as Error).message });
      throw e;
    } finally {
      span.end();
    }
  });
}

/** A link to the active span when it is valid and of another trace than `parent`. */
function causeLink(parent: Context): Link[] | undefined {
  const active = trace.getSpanContext(context.active());
  if (!active || !trace.isSpanContextValid(active)) return undefined;
  const p = trace.getSpanContext(parent);
  return p && p.traceId === active.traceId ? undefined : [{ context: active }];
}

/** Short readable form of a state value for span attributes. */
export function stateLabel(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The trace id of the active span, when there is a recording one (for log lines). */
export function activeTraceId(): string | undefined {
  const sc = trace.getSpanContext(context.active());
  return sc && trace.isSpanContextValid(sc) ? sc.traceId : undefined;
}
