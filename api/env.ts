import type { Context } from 'hono';
import type { Caller } from '../runtime/index.ts';
import type { Principal } from './auth/principal.ts';

/** Hono environment of the API: what the middleware put on the context. */
export interface ApiEnv {
  Variables: {
    /** Set by the request-id middleware, echoed as `X-Request-Id` and in every error body. */
    requestId: string;
    /** Set by the auth middleware on `/v1/*`. */
    principal: Principal;
  };
}

/** The authenticated principal (the auth middleware runs before every `/v1` route). */
export function principalOf(c: Context<ApiEnv>): Principal {
  return c.get('principal');
}

/** The principal as the runtime's caller: history `actor` and event-level role checks. */
export function callerOf(c: Context<ApiEnv>): Caller {
  const p = principalOf(c);
  return { id: p.subject, roles: p.roles };
}
