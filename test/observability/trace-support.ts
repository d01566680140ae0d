import { context, propagation, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { startTracing, type Tracing } from '../../observability/otel.ts';

/**
 * The server's own SDK set-up (`startTracing`) with an in-memory exporter, for
 * span-tree assertions. Call {@link stopTestTracing} after the file's tests.
 */
export function startTestTracing(): { exporter: InMemorySpanExporter; tracing: Tracing } {
  const exporter = new InMemorySpanExporter();
  const tracing = startTracing({ env: {}, spanProcessors: [new SimpleSpanProcessor(exporter)] });
  return { exporter, tracing };
}

/** Undoes the global registration so the next test file starts clean. */
export async function stopTestTracing(t: { tracing: Tracing }): Promise<void> {
  await t.tracing.shutdown();
  trace.disable();
  context.disable();
  propagation.disable();
}

/** A random W3C traceparent (sampled) with its trace and span ids. */
export function traceparent(): { header: string; traceId: string; spanId: string } {
  const hex = (n: number) => [...crypto.getRandomValues(new Uint8Array(n))].map((b) => b.toString(16).padStart(2, '0')).join('');
  const traceId = hex(16);
  const spanId = hex(8);
  return { header: `00-${traceId}-${spanId}-01`, traceId, spanId };
}

/** The parent span id of a finished span (SDK 2.x: `parentSpanContext`). */
export function parentOf(span: ReadableSpan): string | undefined {
  return span.parentSpanContext?.spanId;
}

/** Collects pino's JSON lines. */
export function lineCollector(): { lines: Record<string, any>[]; write(s: string): void } {
  const lines: Record<string, any>[] = [];
  return { lines, write: (s: string) => void lines.push(JSON.parse(s)) };
}
