/**
 * Recognises errors that mean "the database cannot be reached right now"
 * (a restart, a terminated backend, a refused connection), which the API
 * answers with 503 and `Retry-After` instead of a 500.
 */

// SQLSTATE class 08 (connection exception) and the shutdown / start-up codes of class 57.
const UNAVAILABLE_SQLSTATE = /^(08...|57P01|57P02|57P03|53300)$/;
const UNAVAILABLE_ERRNO = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
// What node-postgres and its pool say when a connection drops or cannot be had in time.
const UNAVAILABLE_MESSAGE = new RegExp(
  [
    'Connection terminated',
    'connection error and is not queryable',
    'timeout exceeded when trying to connect',
    'Cannot use a pool after calling end',
    'the database system is (starting up|shutting down)',
  ].join('|'),
  'i',
);

/** Seconds a client should wait before retrying during a database outage. */
export const DATABASE_RETRY_AFTER_SECONDS = 2;

/**
 * True when `error`, or an error in its `cause` chain, says the database is
 * unreachable or restarting (not that the request was wrong).
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let e = error, depth = 0; e && typeof e === 'object' && depth < 10; e = (e as { cause?: unknown }).cause, depth++) {
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && (UNAVAILABLE_SQLSTATE.test(code) || UNAVAILABLE_ERRNO.has(code))) return true;
    if (typeof message === 'string' && UNAVAILABLE_MESSAGE.test(message)) return true;
  }
  return false;
}
