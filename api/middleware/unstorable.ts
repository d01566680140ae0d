import type { MiddlewareHandler } from 'hono';
import { badString, unstorable } from '../../runtime/index.ts';
import type { ApiEnv } from '../env.ts';
import { ApiError } from '../errors.ts';

/**
 * Refuses, before any route runs, request values that Postgres cannot store
 * or that would overflow the stack on their way to it: NUL characters and
 * lone surrogates anywhere in the path, the query or a JSON body (values and
 * keys), and JSON nested deeper than the runtime accepts. Each is a 400
 * `validation_failed` naming where it was; nothing is changed.
 *
 * @remarks Runs after the body limit. A body that is not valid JSON is left to
 * the route's own validation (`malformed_json`).
 */
export function rejectUnstorable(): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const url = new URL(c.req.url);
    let path: string;
    try {
      path = decodeURIComponent(url.pathname);
    } catch {
      throw ApiError.validation('path', [{ path: '', message: 'is not valid percent-encoded UTF-8' }]);
    }
    const inPath = badString(path);
    if (inPath) throw ApiError.validation('path', [{ path: '', message: `contains ${inPath}` }]);
    for (const [name, value] of url.searchParams) {
      const problem = badString(name) ?? badString(value);
      if (problem) throw ApiError.validation('query', [{ path: name, message: `contains ${problem}` }]);
    }
    if (hasJsonBody(c.req.method, c.req.header('content-type'))) {
      const body = await c.req.json().then(
        (v: unknown) => ({ v }),
        () => undefined,
      );
      const found = body && unstorable(body.v, 'body');
      if (found) throw ApiError.validation('body', [{ path: found.path.replace(/^body\.?/, ''), message: `is ${found.reason}` }]);
    }
    await next();
  };
}

function hasJsonBody(method: string, contentType: string | undefined): boolean {
  return method !== 'GET' && method !== 'HEAD' && /^application\/([a-z0-9.+-]*\+)?json\b/i.test(contentType ?? '');
}
