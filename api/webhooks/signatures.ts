/**
 * Signature checks of inbound webhooks, on the raw body as received (never a re-encoded parse of it), each
 * comparison made with `timingSafeEqual` so a forger learns nothing from how long a refusal takes.
 *
 * - `hmac`: `x-statekeeper-timestamp: <unix seconds>`, `x-statekeeper-signature: sha256=<hex>` over
 *   `<timestamp>.<body>` (several comma-separated signatures allowed, for secret rotation); optional
 *   `x-statekeeper-delivery: <id>`.
 * - `stripe`: `Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>…]` over `<t>.<body>`.
 * - `github`: `X-Hub-Signature-256: sha256=<hex>` over the body; no timestamp, so the replay protection is
 *   the `X-GitHub-Delivery` id, required.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** What a signature check needs of a source. */
export interface SignedSource {
  readonly kind: 'hmac' | 'stripe' | 'github';
  readonly secret: string;
  readonly toleranceSeconds: number;
}

/** A verified request: the delivery id its headers name, else one derived from its signature. */
export type Verification = { ok: true; deliveryId: string } | { ok: false; reason: string };

const HEX64 = /^[0-9a-f]{64}$/i;
const TIMESTAMP = /^\d{1,12}$/;
const DELIVERY_ID = /^[A-Za-z0-9._:-]{1,180}$/;

/** Checks `raw` against the source's signature headers at `nowMs`. */
export function verifySignature(
  source: SignedSource,
  header: (name: string) => string | undefined,
  raw: Buffer,
  nowMs: number,
): Verification {
  switch (source.kind) {
    case 'hmac':
      return verifyTimestamped(source, header('x-statekeeper-timestamp'), signatures(header('x-statekeeper-signature')), raw, nowMs, {
        deliveryId: header('x-statekeeper-delivery'),
      });
    case 'stripe': {
      const parts = parseStripeHeader(header('stripe-signature'));
      if (!parts) return fail('Stripe-Signature is missing or malformed (t=<seconds>,v1=<hex>)');
      return verifyTimestamped(source, parts.t, parts.v1, raw, nowMs, {});
    }
    case 'github': {
      const given = signatures(header('x-hub-signature-256'));
      if (!given.length) return fail('X-Hub-Signature-256 is missing or malformed (sha256=<hex>)');
      if (!matches(hmacHex(source.secret, raw), given)) return fail('the signature does not match the body');
      const id = header('x-github-delivery');
      if (!id || !DELIVERY_ID.test(id)) return fail('X-GitHub-Delivery is missing or malformed: a delivery cannot be told from a replay');
      return { ok: true, deliveryId: id };
    }
  }
}

/** The HMAC-SHA256 of `parts` joined, in hex (what a sender computes; also used by tests and the README). */
export function hmacHex(secret: string, ...parts: (string | Buffer)[]): string {
  const h = createHmac('sha256', secret);
  for (const p of parts) h.update(p);
  return h.digest('hex');
}

function verifyTimestamped(
  source: SignedSource,
  timestamp: string | undefined,
  given: string[],
  raw: Buffer,
  nowMs: number,
  o: { deliveryId?: string },
): Verification {
  if (!timestamp || !TIMESTAMP.test(timestamp)) return fail('the signed timestamp is missing or not unix seconds');
  if (!given.length) return fail('the signature is missing or malformed (sha256=<hex>)');
  const expected = hmacHex(source.secret, `${timestamp}.`, raw);
  if (!matches(expected, given)) return fail('the signature does not match the timestamp and body');
  // Checked after the signature: only a holder of the secret learns that its timestamp was refused.
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > source.toleranceSeconds) {
    return fail(`the signed timestamp is more than ${source.toleranceSeconds} s from the server's clock (a replay, or a clock off)`);
  }
  if (o.deliveryId !== undefined && !DELIVERY_ID.test(o.deliveryId)) return fail('x-statekeeper-delivery is malformed');
  // Without an id the signature itself names the delivery: the same signed request twice is a replay.
  return { ok: true, deliveryId: o.deliveryId ?? `sig:${expected}` };
}

/** `sha256=<hex>` entries of a header (comma-separated), lower-cased; malformed entries are dropped. */
function signatures(header: string | undefined): string[] {
  if (!header || header.length > 2000) return [];
  return header
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.startsWith('sha256=') && HEX64.test(s.slice(7)))
    .map((s) => s.slice(7).toLowerCase());
}

function parseStripeHeader(header: string | undefined): { t: string; v1: string[] } | undefined {
  if (!header || header.length > 2000) return undefined;
  let t: string | undefined;
  const v1: string[] = [];
  for (const item of header.split(',')) {
    const eq = item.indexOf('=');
    const [k, v] = [item.slice(0, eq).trim(), item.slice(eq + 1).trim()];
    if (k === 't') {
      if (t !== undefined) return undefined;
      t = v;
    } else if (k === 'v1' && HEX64.test(v)) v1.push(v.toLowerCase());
  }
  return t !== undefined && v1.length ? { t, v1 } : undefined;
}

/** Whether any of `given` is `expected`, each compared in constant time (both are 32-byte digests). */
function matches(expected: string, given: string[]): boolean {
  const e = Buffer.from(expected, 'hex');
  let found = false;
  // Every candidate is compared, so the time does not depend on which one matched.
  for (const g of given) if (timingSafeEqual(e, Buffer.from(g, 'hex'))) found = true;
  return found;
}

function fail(reason: string): Verification {
  return { ok: false, reason };
}
