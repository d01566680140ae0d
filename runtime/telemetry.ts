import { context, defaultTextMapGetter, defaultTextMapSetter, trace, SpanStatusCode, type Span, type Context } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

/** Span and attribute names: one table, so dashboards and tests agree. */
export const SPAN = {
  event: 'statekeeper.event',
  start: 'statekeeper.start',
  step: 'statekeeper.step',
} as const;

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
  idempotencyKey: 'statekeeper.step.idempotency_key',
  attempt: 'statekeeper.step.attempt',
  outcome: 'statekeeper.step.outcome',
} as const;

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
 */
export function storedContext(carrier: Record<string, string> | null | undefined): Context {
  return carrier ? w3c.extract(context.active(), carrier, defaultTextMapGetter) : context.active();
}

/** Runs `fn` in a span that records an exception and ends on completion. */
export async function inSpan<T>(name: string, parent: Context, attrs: Record<string, string | number | boolean>, fn: (span: Span) => Promise<T>): Promise<T> {
  return tracer.startActiveSpan(name, { attributes: attrs }, parent, async (span) => {
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

/** Short readable form of a state value for span attributes. */
export function stateLabel(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}
