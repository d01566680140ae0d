import { requestId as honoRequestId } from 'hono/request-id';
import type { MiddlewareHandler } from 'hono';
import type { ApiEnv } from '../env.ts';

/** Header carrying the request id both ways. */
export const REQUEST_ID_HEADER = 'X-Request-Id';

/**
 * Gives every request an id: the caller's `X-Request-Id` when it is a plain
 * token of at most 128 characters, else a random UUID. It is echoed in the
 * response header and in every error body.
 */
export function requestId(): MiddlewareHandler<ApiEnv> {
  return honoRequestId({ headerName: REQUEST_ID_HEADER, limitLength: 128 });
}
