import type { MiddlewareHandler } from 'hono';
import type { ApiEnv } from '../env.ts';

/** The HSTS value sent on HTTPS: one year, subdomains included. */
export const HSTS = 'max-age=31536000; includeSubDomains';

/**
 * Tenant data must not be kept by browsers or shared caches: every `/v1`
 * answer (data or error) carries `Cache-Control: no-store`.
 */
export function noStore(): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    await next();
    c.header('Cache-Control', 'no-store');
  };
}

/**
 * `Strict-Transport-Security` only on answers to HTTPS requests (directly or
 * through a proxy that says so in `X-Forwarded-Proto`): over plain HTTP the
 * header is meaningless to browsers and wrongly advertises HTTPS.
 */
export function hstsOverHttps(): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    await next();
    const proto = c.req.header('x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase();
    if (new URL(c.req.url).protocol === 'https:' || proto === 'https') c.header('Strict-Transport-Security', HSTS);
    else c.res.headers.delete('Strict-Transport-Security');
  };
}
