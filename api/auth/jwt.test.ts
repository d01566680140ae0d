import { exportSPKI, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import { describe, expect, test } from 'vitest';
import { createStandardTestApi } from '../../test/support/api-test-support.ts';
import { payoutInput } from '../../test/fixtures/api-machines.ts';
import { createJwtAuthenticator } from './jwt.ts';

const SECRET = 'a-test-secret-that-is-long-enough-for-hs256';
const hs = (claims: JWTPayload, o: { secret?: string; exp?: string | number; alg?: string } = {}) =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: o.alg ?? 'HS256' })
    .setIssuedAt()
    .setExpirationTime(o.exp ?? '5m')
    .sign(new TextEncoder().encode(o.secret ?? SECRET));

describe('JWT authentication', () => {
  test('HS256: sub, tenant and roles claims become the principal', async () => {
    const auth = await createJwtAuthenticator({ secret: SECRET });
    expect(await auth.authenticate(await hs({ sub: 'alice', tenant: 'acme', roles: ['operator', 'finance'] }))).toEqual({
      subject: 'user:alice',
      tenant: 'acme',
      roles: ['finance', 'operator', 'viewer'],
      via: 'jwt',
    });
    expect((await auth.authenticate(await hs({ sub: 'bob', tenant: 'acme', roles: 'viewer admin' })))?.roles).toEqual([
      'admin',
      'operator',
      'viewer',
    ]);
  });

  test('refuses a wrong signature, expiry, missing sub/tenant/exp, malformed roles, other algorithms', async () => {
    const auth = await createJwtAuthenticator({ secret: SECRET, issuer: 'https://idp.example', audience: 'statekeeper' });
    const good = { sub: 'alice', tenant: 'acme', roles: ['viewer'], iss: 'https://idp.example', aud: 'statekeeper' };
    expect(await auth.authenticate(await hs(good))).toBeDefined();
    const bad = [
      await hs(good, { secret: `${SECRET}-other` }),
      await hs(good, { exp: Math.floor(Date.now() / 1000) - 3600 }),
      await hs({ ...good, sub: undefined }),
      await hs({ ...good, tenant: undefined }),
      await hs({ ...good, tenant: 'bad tenant' }),
      await hs({ ...good, roles: [1, 2] }),
      await hs({ ...good, roles: ['no spaces allowed!'] }),
      await hs({ ...good, iss: 'https://evil.example' }),
      await hs({ ...good, aud: 'someone-else' }),
      await new SignJWT(good).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(SECRET)), // no exp
      await hs(good, { alg: 'HS512' }),
      `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.` +
        `${Buffer.from(JSON.stringify({ ...good, exp: 9e9 })).toString('base64url')}.`,
      'not-a-jwt',
    ];
    for (const [i, token] of bad.entries()) expect(await auth.authenticate(token), `case ${i}`).toBeUndefined();
  });

  test('RS256 with a public key; an HS256 token signed with the public key text is refused (no algorithm confusion)', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const pem = await exportSPKI(publicKey);
    const auth = await createJwtAuthenticator({ publicKey: pem, tenantClaim: 'org', rolesClaim: 'perms' });
    const token = await new SignJWT({ sub: 'svc', org: 'acme', perms: ['operator'] })
      .setProtectedHeader({ alg: 'RS256' })
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);
    expect(await auth.authenticate(token)).toMatchObject({ subject: 'user:svc', tenant: 'acme', roles: ['operator', 'viewer'] });
    expect(await auth.authenticate(await hs({ sub: 'x', org: 'acme' }, { secret: pem }))).toBeUndefined();
  });

  test('configuration is checked', async () => {
    await expect(createJwtAuthenticator({})).rejects.toThrow(/secret/);
    await expect(createJwtAuthenticator({ secret: 'short' })).rejects.toThrow(/32/);
  });

  test('through the API: the JWT subject is the history actor, roles gate routes and events', async () => {
    const api = await createStandardTestApi({ auth: await createJwtAuthenticator({ secret: SECRET }) });
    const operator = await hs({ sub: 'alice', tenant: 'acme', roles: ['operator'] });
    const r = await api.call('POST', '/v1/machines/payout/instances?wait=settled', { body: { input: payoutInput() }, key: operator });
    expect(r.status).toBe(201);
    const approve = await api.call('POST', `/v1/instances/${r.body.id}/events`, { body: { type: 'payout.approve' }, key: operator });
    expect(approve.status).toBe(403);
    const finance = await hs({ sub: 'carol', tenant: 'acme', roles: ['operator', 'finance'] });
    expect((await api.call('POST', `/v1/instances/${r.body.id}/events`, { body: { type: 'payout.approve' }, key: finance })).status).toBe(
      200,
    );
    expect((await api.runtime.history(r.body.id)).map((e) => e.actor)).toEqual(['user:alice', null, 'user:carol']);
    const otherTenant = await hs({ sub: 'mallory', tenant: 'other', roles: ['admin'] });
    expect((await api.call('GET', `/v1/instances/${r.body.id}`, { key: otherTenant })).status).toBe(404);
    expect((await api.call('GET', '/v1/instances', { key: await hs({ sub: 'x', tenant: 'acme', roles: [] }) })).status).toBe(403);
  });

  test('lifetime: iat is required, and a token issued in the future, older than the maximum age or living longer is refused', async () => {
    const auth = await createJwtAuthenticator({ secret: SECRET, maxTokenAgeSec: 600, clockToleranceSec: 5 });
    const claims = { sub: 'alice', tenant: 'acme', roles: ['viewer'] };
    const now = Math.floor(Date.now() / 1000);
    const sign = (iat: number | undefined, exp: number) => {
      const jwt = new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(exp);
      return (iat === undefined ? jwt : jwt.setIssuedAt(iat)).sign(new TextEncoder().encode(SECRET));
    };
    expect(await auth.authenticate(await sign(now, now + 300))).toBeDefined();
    expect(await auth.authenticate(await sign(now - 3, now + 597))).toBeDefined();
    expect(await auth.authenticate(await sign(undefined, now + 300)), 'no iat').toBeUndefined();
    expect(await auth.authenticate(await sign(now + 3600, now + 3900)), 'issued in the future').toBeUndefined();
    expect(await auth.authenticate(await sign(now - 1200, now + 300)), 'older than the maximum age').toBeUndefined();
    expect(await auth.authenticate(await sign(now, now + 10 * 365 * 86400)), 'a ten-year lifetime').toBeUndefined();
    await expect(createJwtAuthenticator({ secret: SECRET, maxTokenAgeSec: 0 })).rejects.toThrow(/maxTokenAgeSec/);
  });
});
