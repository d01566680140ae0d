import type { Hook } from '@hono/zod-openapi';
import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ZodError } from 'zod';
import { RuntimeError } from '../../runtime/index.ts';
import type { ApiEnv } from '../env.ts';
import { ApiError, RUNTIME_STATUS } from '../errors.ts';
import { DATABASE_RETRY_AFTER_SECONDS, isDatabaseUnavailable } from './unavailable.ts';

/** The body of every error response. */
export interface ErrorBody {
  error: { code: string; message: string; requestId: string; details?: Record<string, unknown> };
}

/** Receives errors that become a 500, with the request id; the client only sees the id. */
export type InternalErrorReporter = (error: unknown, requestId: string) => void;

const TARGETS: Record<string, string> = { json: 'body', query: 'query', param: 'path', header: 'headers', cookie: 'cookies', form: 'body' };

/** Zod issues as `{ path, message }`, the shape every validation error carries. */
export function issuesOf(error: ZodError): { path: string; message: string }[] {
  return error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
}

/**
 * The zod-openapi `defaultHook`: a failed validation of any part of a request
 * is thrown as one `validation_failed` error, mapped by {@link errorHandler}.
 */
export const validationHook: Hook<unknown, ApiEnv, string, undefined> = (result) => {
  if (!result.success) throw ApiError.validation(TARGETS[result.target] ?? result.target, issuesOf(result.error));
  return undefined;
};

/**
 * The one place where errors become responses: API errors, runtime errors by
 * their stable code, Hono's HTTP exceptions; anything else is a 500 whose
 * details stay in the server log.
 */
export function errorHandler(report: InternalErrorReporter): ErrorHandler<ApiEnv> {
  return (err, c) => {
    if (err instanceof ApiError) {
      if (err.status === 401) c.header('WWW-Authenticate', 'Bearer');
      return send(c, err.status, err.code, err.message, err.details);
    }
    if (isDatabaseUnavailable(err)) {
      // An outage is the server's state, not the request's fault: the client may retry as is.
      c.header('Retry-After', String(DATABASE_RETRY_AFTER_SECONDS));
      return send(c, 503, 'database_unavailable', 'The database cannot be reached right now; retry after a moment.');
    }
    if (err instanceof RuntimeError) {
      const status = RUNTIME_STATUS[err.code] ?? 500;
      if (status === 503) c.header('Retry-After', String(DATABASE_RETRY_AFTER_SECONDS));
      // 501: a capability this server is not configured for (outbox_unavailable), told as such rather than hidden.
      if (status >= 500 && status !== 501 && status !== 503 && status !== 504) return internal(c, err, report);
      return send(c, status, err.code, err.message, err.details);
    }
    if (err instanceof HTTPException) {
      if (err.status === 400 && /json/i.test(err.message)) return send(c, 400, 'malformed_json', 'The request body is not valid JSON.');
      if (err.status === 413) return send(c, 413, 'payload_too_large', 'The request body is too large.');
      if (err.status === 415) return send(c, 415, 'unsupported_media_type', 'Send the request body as application/json.');
      if (err.status < 500) return send(c, err.status as ContentfulStatusCode, 'bad_request', err.message || 'Bad request.');
    }
    return internal(c, err, report);
  };
}

/** A route as Hono lists it (`app.routes`). */
export interface RouteEntry {
  readonly method: string;
  readonly path: string;
}

/**
 * Unknown paths get a 404 and known paths with another method a 405 with
 * `Allow`, both in the same error shape as everything else.
 * @param routes the app's routes, read when the first request misses.
 */
export function createNotFoundHandler(routes: () => readonly RouteEntry[] = () => []): NotFoundHandler<ApiEnv> {
  let patterns: { method: string; re: RegExp }[] | undefined;
  return (c) => {
    patterns ??= routes()
      .filter((r) => r.method !== 'ALL' && !r.path.includes('*'))
      .map((r) => ({ method: r.method, re: pathPattern(r.path) }));
    const allowed = [...new Set(patterns.filter((p) => p.re.test(c.req.path)).map((p) => p.method))];
    if (allowed.length > 0) {
      if (allowed.includes('GET')) allowed.push('HEAD');
      c.header('Allow', allowed.join(', '));
      return send(c, 405, 'method_not_allowed', `${c.req.method} is not allowed on ${c.req.path}; allowed: ${allowed.join(', ')}.`);
    }
    return send(c, 404, 'route_not_found', `No route ${c.req.method} ${c.req.path}; see GET /docs.`);
  };
}

/** `/v1/instances/:id` → a regular expression matching its paths. */
function pathPattern(path: string): RegExp {
  const escaped = path.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${escaped.replace(/:[A-Za-z0-9_]+/g, '[^/]+')}$`);
}

/** Unknown paths: the same error shape as everything else. */
export const notFoundHandler: NotFoundHandler<ApiEnv> = createNotFoundHandler();

function internal(c: Context<ApiEnv>, err: unknown, report: InternalErrorReporter) {
  report(err, c.get('requestId') ?? '');
  return send(c, 500, 'internal_error', 'The server failed to handle the request; quote the request id when reporting it.');
}

function send(c: Context<ApiEnv>, status: ContentfulStatusCode, code: string, message: string, details?: Record<string, unknown>) {
  const body: ErrorBody = { error: { code, message, requestId: c.get('requestId') ?? '', ...(details ? { details } : {}) } };
  return c.json(body, status);
}
