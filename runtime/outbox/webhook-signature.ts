import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com): the secret is `whsec_` + base64 of the key;
 * the signature is `v1,` + base64 of HMAC-SHA256 over `<webhook-id>.<webhook-timestamp>.<body>`.
 */
export const SECRET_PREFIX = 'whsec_';

/** A new secret: 32 random bytes. */
export function newWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64');
}

/** The problem with a secret given by a caller, or undefined: `whsec_` and base64 of 24 to 64 bytes. */
export function secretProblem(secret: string): string | undefined {
  if (!secret.startsWith(SECRET_PREFIX)) return `the secret must start with "${SECRET_PREFIX}"`;
  const b64 = secret.slice(SECRET_PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return 'the secret must be "whsec_" followed by base64';
  const n = Buffer.from(b64, 'base64').length;
  if (n < 24 || n > 64) return `the secret's key must be 24 to 64 bytes (it has ${n})`;
  return undefined;
}

/** The `webhook-signature` value for one request. */
export function signWebhook(secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

/**
 * What a receiver does (exported for tests and receivers written in TypeScript): recompute the signature
 * over the raw body, compare it in constant time with each `v1,` entry of the header (several are sent while
 * a secret is rotated), and refuse timestamps further than `toleranceSec` from now (replays).
 */
export function verifyWebhook(
  secret: string,
  headers: { id: string; timestamp: string; signature: string },
  body: string,
  options: { nowSec?: number; toleranceSec?: number } = {},
): boolean {
  const ts = Number(headers.timestamp);
  const now = options.nowSec ?? Math.floor(Date.now() / 1000);
  if (!Number.isInteger(ts) || Math.abs(now - ts) > (options.toleranceSec ?? 300)) return false;
  const expected = Buffer.from(signWebhook(secret, headers.id, ts, body));
  return headers.signature
    .split(' ')
    .some((s) => s.startsWith('v1,') && s.length === expected.length && timingSafeEqual(Buffer.from(s), expected));
}
