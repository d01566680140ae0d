import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_URL_PATH,
  ATTR_URL_SCHEME,
  ATTR_USER_AGENT_ORIGINAL,
} from '@opentelemetry/semantic-conventions';
import type { MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import type { Logger } from 'pino';

const tracer = trace.getTracer('statekeeper.http');

/** Options of {@link observeRequests}. */
export interface ObserveRequestsOptions {
  /** Where the one line per request goes; none: no request lines. */
  log?: Logger;
  /** Paths not logged at info (probes, scrapes); they are logged at debug. Default `/healthz`, `/readyz`, `/metrics`. */
  quietPaths?: readonly string[];
}

/**
 * One server span and one log line per HTTP request. An incoming
 * `traceparent` is honoured (the span continues the caller's trace); the span
 * and the line carry the matched route (`/v1/instances/:id`, not the raw
 * path), the status and the duration; the line also carries the request id
 * and, on instance routes, the instance id. Attribute names follow the
 * OpenTelemetry HTTP semantic conventions.
 *
 * @remarks Runs after the request-id middleware (it reads `requestId`) and
 * before everything else, so the span is active while routes call the
 * runtime: a workflow started by this request belongs to this trace.
 */
export function observeRequests(options: ObserveRequestsOptions = {}): MiddlewareHandler {
  const quiet = new Set(options.quietPaths ?? ['/healthz', '/readyz', '/metrics']);
  return async (c, next) => {
    const started = performance.now();
    const method = c.req.method;
    const url = new URL(c.req.url);
    const parent = propagation.extract(ROOT_CONTEXT, c.req.header());
    const span = tracer.startSpan(
      method,
      {
        kind: SpanKind.SERVER,
        attributes: {
          [ATTR_HTTP_REQUEST_METHOD]: method,
          [ATTR_URL_PATH]: url.pathname,
          [ATTR_URL_SCHEME]: url.protocol.replace(':', ''),
          ...(c.req.header('user-agent') ? { [ATTR_USER_AGENT_ORIGINAL]: c.req.header('user-agent')! } : {}),
        },
      },
      parent,
    );
    let failure: unknown;
    try {
      await context.with(trace.setSpan(parent, span), next);
    } catch (e) {
      failure = e;
      throw e;
    } finally {
      const status = failure ? 500 : c.res.status;
      const route = matchedRoute(c, status);
      if (route) {
        span.setAttribute(ATTR_HTTP_ROUTE, route);
        span.updateName(`${method} ${route}`);
      }
      span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      const durationMs = Math.round((performance.now() - started) * 1000) / 1000;
      const sc = span.spanContext();
      const instanceId = route?.includes('/instances/:id') ? c.req.param('id') : undefined;
      const line = {
        method,
        route: route ?? null,
        path: url.pathname,
        status,
        duration_ms: durationMs,
        request_id: (c.get('requestId') as string | undefined) ?? null,
        ...(instanceId ? { instance_id: instanceId } : {}),
        ...(trace.isSpanContextValid(sc) ? { trace_id: sc.traceId, span_id: sc.spanId } : {}),
      };
      span.end();
      if (options.log) {
        if (quiet.has(url.pathname)) options.log.debug(line, 'request');
        else if (status >= 500) options.log.error(line, 'request');
        else options.log.info(line, 'request');
      }
    }
  };
}

/** The route pattern that answered, or undefined when none did (a 404 from the fallback). */
function matchedRoute(c: Parameters<MiddlewareHandler>[0], status: number): string | undefined {
  try {
    const route = routePath(c, -1);
    if (!route || (status === 404 && route.endsWith('*'))) return undefined;
    return route;
  } catch {
    return undefined;
  }
}
