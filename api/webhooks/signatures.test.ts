import { createHmac } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { verifySignature } from './signatures.ts';

const secret = 'whsec_test_0123456789abcdef';
const body = Buffer.from('{"id":"evt_1"}');
const now = 1_765_000_000_000;
const ts = String(now / 1000);
const mac = (payload: string | Buffer) => createHmac('sha256', secret).update(payload).digest('hex');
const headers = (h: Record<string, string>) => (name: string) => h[name.toLowerCase()];
const verify = (kind: 'hmac' | 'stripe' | 'github', h: Record<string, string>, raw = body) =>
  verifySignature({ kind, secret, toleranceSeconds: 300 }, headers(h), raw, now);

describe('webhook signatures', () => {
  const stripeSig = mac(Buffer.concat([Buffer.from(`${ts}.`), body]));

  test.each([
    ['no header', {}],
    ['no t', { 'stripe-signature': `v1=${stripeSig}` }],
    ['two t', { 'stripe-signature': `t=${ts},t=${ts},v1=${stripeSig}` }],
    ['a short v1', { 'stripe-signature': `t=${ts},v1=${stripeSig.slice(2)}` }],
    ['only v0', { 'stripe-signature': `t=${ts},v0=${stripeSig}` }],
    ['a t that is not a number', { 'stripe-signature': `t=1e9,v1=${stripeSig}` }],
  ])('Stripe refuses %s', (_what, h) => {
    expect(verify('stripe', h)).toMatchObject({ ok: false });
  });

  test('Stripe: upper-case hex and extra schemes are accepted; the body id is left to the route', () => {
    expect(verify('stripe', { 'stripe-signature': `t=${ts},v0=abc,v1=${stripeSig.toUpperCase()}` })).toEqual({
      ok: true,
      deliveryId: `sig:${stripeSig}`,
    });
  });

  test('hmac: several signatures (secret rotation), a malformed delivery id refused, the raw bytes signed', () => {
    const sig = mac(Buffer.concat([Buffer.from(`${ts}.`), body]));
    const h = { 'x-statekeeper-timestamp': ts, 'x-statekeeper-signature': `sha256=${'1'.repeat(64)}, sha256=${sig}` };
    expect(verify('hmac', h)).toEqual({ ok: true, deliveryId: `sig:${sig}` });
    expect(verify('hmac', { ...h, 'x-statekeeper-delivery': 'order 42' })).toMatchObject({ ok: false });
    expect(verify('hmac', { ...h, 'x-statekeeper-delivery': 'shop-42' })).toEqual({ ok: true, deliveryId: 'shop-42' });
    // The same characters in another encoding are other bytes: refused.
    expect(verify('hmac', h, Buffer.from('\ufeff{"id":"evt_1"}'))).toMatchObject({ ok: false });
  });

  test('github: the signature is over the body alone, and the delivery id is required', () => {
    const h = { 'x-hub-signature-256': `sha256=${mac(body)}`, 'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958' };
    expect(verify('github', h)).toEqual({ ok: true, deliveryId: h['x-github-delivery'] });
    expect(verify('github', { ...h, 'x-hub-signature-256': `sha1=${mac(body)}` })).toMatchObject({ ok: false });
    expect(verify('github', { 'x-hub-signature-256': h['x-hub-signature-256'] })).toMatchObject({ ok: false });
  });
});
