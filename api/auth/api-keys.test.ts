import { describe, expect, onTestFinished, test } from 'vitest';
import { ApiKeyAuthenticator, ApiKeyNameTakenError, apiKeyId, buildApiKey, createApiKey, hashApiKey } from './api-keys.ts';
import { ensureDevKey } from './dev-key.ts';
import { MemoryApiKeyStore } from './memory-key-store.ts';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

describe('API keys', () => {
  test('a created key authenticates to its tenant, expanded roles and subject; only its hash is stored', async () => {
    const store = new MemoryApiKeyStore();
    const { key, record } = await createApiKey(store, { tenant: 'acme', name: 'ci', roles: 'operator, finance' });
    expect(key).toMatch(/^sk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(apiKeyId(key)).toBe(record.id);
    const stored = await store.get(record.id);
    expect(stored!.secretHash).toBe(hashApiKey(key));
    // The secret is base64url and may itself contain "_": it starts after the id's delimiter.
    expect(JSON.stringify(stored)).not.toContain(key.slice(key.indexOf('_', 3) + 1));
    const auth = new ApiKeyAuthenticator(store);
    expect(await auth.authenticate(key)).toEqual({
      subject: 'apikey:ci',
      tenant: 'acme',
      roles: ['finance', 'operator', 'viewer'],
      via: 'api_key',
    });
  });

  test('a wrong secret, an unknown id, a malformed token or a revoked key do not authenticate', async () => {
    const store = new MemoryApiKeyStore();
    const { key, record } = await createApiKey(store, { tenant: 'acme', name: 'ci', roles: 'admin' });
    const auth = new ApiKeyAuthenticator(store);
    const secret = key.slice(key.indexOf('_', 3) + 1);
    const flipped = key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A');
    for (const token of [flipped, `sk_0000000000000000_${secret}`, 'sk_short', 'eyJhbGciOi.x.y', ''])
      expect(await auth.authenticate(token), token).toBeUndefined();
    expect(await store.revoke(record.id, new Date())).toBe(true);
    expect(await store.revoke(record.id, new Date())).toBe(false);
    expect(await auth.authenticate(key)).toBeUndefined();
  });

  test('names are unique per tenant among live keys; arguments are checked', async () => {
    const store = new MemoryApiKeyStore();
    const first = await createApiKey(store, { tenant: 'acme', name: 'ci', roles: 'viewer' });
    await expect(createApiKey(store, { tenant: 'acme', name: 'ci', roles: 'viewer' })).rejects.toBeInstanceOf(ApiKeyNameTakenError);
    await createApiKey(store, { tenant: 'other', name: 'ci', roles: 'viewer' });
    await store.revoke(first.record.id, new Date());
    await createApiKey(store, { tenant: 'acme', name: 'ci', roles: 'viewer' });
    expect(() => buildApiKey({ tenant: 'a b', name: 'x', roles: 'viewer' })).toThrow(/tenant/);
    expect(() => buildApiKey({ tenant: 'a', name: 'x y', roles: 'viewer' })).toThrow(/name/);
    expect(() => buildApiKey({ tenant: 'a', name: 'x', roles: '' })).toThrow(/at least one role/);
    expect(() => buildApiKey({ tenant: 'a', name: 'x', roles: 'view er!' })).toThrow(/role/);
  });

  test('the development key is created once, kept in the data folder (mode 600) and re-stored each start', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'sk-devkey-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const store = new MemoryApiKeyStore();
    const key = await ensureDevKey(store, { dataDir: dir, roles: ['admin', 'finance'] });
    expect(key).toMatch(/^sk_dev_/);
    expect((await readFile(path.join(dir, 'dev-api-key'), 'utf8')).trim()).toBe(key);
    expect((await stat(path.join(dir, 'dev-api-key'))).mode & 0o777).toBe(0o600);
    const fresh = new MemoryApiKeyStore();
    expect(await ensureDevKey(fresh, { dataDir: dir, roles: ['admin'] })).toBe(key);
    expect(await new ApiKeyAuthenticator(fresh).authenticate(key)).toMatchObject({
      tenant: 'default',
      subject: 'apikey:development',
      roles: ['admin', 'operator', 'viewer'],
    });
  });
});
