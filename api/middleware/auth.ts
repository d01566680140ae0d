import type { MiddlewareHandler } from 'hono';
import type { Authenticator, RouteRole } from '../auth/principal.ts';
import type { ApiEnv } from '../env.ts';
import { ApiError } from '../errors.ts';

const BEARER_RE = /^Bearer[ ]+([^\s]{1,8192})[ ]*$/i;

/**
 * Requires `Authorization: Bearer <API key or JWT>` and puts the principal on
 * the context; anything missing, malformed, unknown or revoked is a 401 with
 * the same message (no hint which part was wrong).
 */
export function authenticate(authenticator: Authenticator): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const header = c.req.header('Authorization');
    if (!header) throw ApiError.unauthorized();
    const token = BEARER_RE.exec(header)?.[1];
    const principal = token ? await authenticator.authenticate(token) : undefined;
    if (!principal) throw ApiError.unauthorized('The credential is missing, malformed, expired or revoked.');
    c.set('principal', principal);
    await next();
  };
}

/**
 * Route-level role check (`viewer` reads, `operator` starts and acts on
 * instances, `admin` has both); runs after {@link authenticate}.
 */
export function requireRole(role: RouteRole): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const p = c.get('principal');
    if (!p) throw ApiError.unauthorized();
    if (!p.roles.includes(role)) throw ApiError.forbidden(role, p.roles);
    await next();
  };
}
