import { diag, DiagConsoleLogger, DiagLogLevel } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  NodeTracerProvider,
  SimpleSpanProcessor,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';

/** What {@link startTracing} set up. */
export interface Tracing {
  /** `otlp`, `console`, or `none` (nothing installed: the API stays a no-op). */
  readonly exporter: 'otlp' | 'console' | 'none' | 'custom';
  /** Flushes and stops the exporter (call on shutdown). */
  shutdown(): Promise<void>;
}

/** Options of {@link startTracing}; everything else comes from the standard `OTEL_*` variables. */
export interface TracingOptions {
  env?: NodeJS.ProcessEnv;
  /** Span processors to use instead of the ones `OTEL_TRACES_EXPORTER` names (tests: an in-memory exporter). */
  spanProcessors?: SpanProcessor[];
  serviceVersion?: string;
}

/**
 * Installs the OpenTelemetry trace SDK once, at start-up, configured only by
 * the standard variables: `OTEL_TRACES_EXPORTER` (`otlp`, `console`, `none`),
 * `OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (and
 * `_HEADERS`, `_TIMEOUT`), `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`,
 * `OTEL_TRACES_SAMPLER[_ARG]`, `OTEL_BSP_*`, `OTEL_SDK_DISABLED`,
 * `OTEL_LOG_LEVEL`. Exports over OTLP/HTTP with JSON bodies (`@opentelemetry/exporter-trace-otlp-http`).
 *
 * @remarks With no endpoint set and no exporter named, nothing is installed:
 * the runtime's spans go to the API's no-op tracer, which costs next to
 * nothing (measured with `npm run bench`, README). The SDK's own default would
 * be to export to `localhost:4318`, which on a machine without a collector
 * only produces failed requests.
 *
 * @example
 * ```ts
 * const tracing = startTracing();
 * process.on('SIGTERM', () => void tracing.shutdown());
 * ```
 */
export function startTracing(options: TracingOptions = {}): Tracing {
  const env = options.env ?? process.env;
  const exporter = chooseExporter(env, options.spanProcessors !== undefined);
  if (exporter === 'none') return { exporter, shutdown: async () => {} };
  const level = env.OTEL_LOG_LEVEL?.toUpperCase() as keyof typeof DiagLogLevel | undefined;
  if (level && level in DiagLogLevel) diag.setLogger(new DiagConsoleLogger(), DiagLogLevel[level]);

  const resource = resourceFromAttributes({
    [ATTR_SERVICE_NAME]: env.OTEL_SERVICE_NAME || 'statekeeper',
    ...(options.serviceVersion ? { [ATTR_SERVICE_VERSION]: options.serviceVersion } : {}),
  }).merge(detectResources({ detectors: [envDetector] }));
  const spanProcessors =
    options.spanProcessors ??
    (exporter === 'console' ? [new SimpleSpanProcessor(new ConsoleSpanExporter())] : [new BatchSpanProcessor(new OTLPTraceExporter())]);
  const provider = new NodeTracerProvider({ resource, spanProcessors });
  // Sets the global tracer provider, the AsyncLocalStorage context manager and the W3C propagators.
  provider.register();
  return { exporter, shutdown: () => provider.shutdown() };
}

/** Which exporter the environment asks for. */
export function chooseExporter(env: NodeJS.ProcessEnv, custom = false): Tracing['exporter'] {
  if (env.OTEL_SDK_DISABLED?.toLowerCase() === 'true') return 'none';
  if (custom) return 'custom';
  const named = (env.OTEL_TRACES_EXPORTER ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  if (named.includes('none')) return 'none';
  if (named.includes('console')) return 'console';
  if (named.includes('otlp')) return 'otlp';
  return env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ? 'otlp' : 'none';
}
