import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { MikroORM } from '@mikro-orm/postgresql';
import { openDatabase } from './index.ts';
import { createTestDatabase, type TestDatabase } from '../../test/support/database.ts';
import { ApiKeyAuthenticator, ApiKeyNameTakenError, buildApiKey, createApiKey } from '../../api/auth/api-keys.ts';
import { PgApiKeyStore } from './pg-key-store.ts';

describe('API keys on Postgres', () => {
  let db: TestDatabase;
  let orm: MikroORM;
  beforeAll(async () => {
    db = await createTestDatabase();
    orm = await openDatabase({ url: db.url, poolSize: 3 });
  });
  afterAll(async () => {
    await orm.close();
    await db.drop();
  });

  test('create, authenticate, list, name uniqueness among live keys, revoke, put', async () => {
    const store = new PgApiKeyStore(orm);
    const { key, record } = await createApiKey(store, { tenant: 'acme', name: 'ci', roles: ['operator'] });
    const auth = new ApiKeyAuthenticator(store);
    expect(await auth.authenticate(key)).toMatchObject({ tenant: 'acme', subject: 'apikey:ci', roles: ['operator', 'viewer'] });
    await expect(createApiKey(store, { tenant: 'acme', name: 'ci', roles: ['viewer'] })).rejects.toBeInstanceOf(ApiKeyNameTakenError);
    expect((await store.list('acme')).map((k) => k.name)).toEqual(['ci']);
    expect(await store.revoke(record.id, new Date())).toBe(true);
    expect(await auth.authenticate(key)).toBeUndefined();
    await createApiKey(store, { tenant: 'acme', name: 'ci', roles: ['viewer'] });
    expect(await store.list('acme')).toHaveLength(2);

    // put replaces by id (the development key keeps its id across starts).
    const dev = buildApiKey({ tenant: 'default', name: 'development', roles: ['admin'], id: 'dev' });
    await store.put(dev.record);
    await store.put({ ...dev.record, roles: ['admin', 'finance'] });
    expect(await auth.authenticate(dev.key)).toMatchObject({ tenant: 'default', roles: ['admin', 'finance', 'operator', 'viewer'] });
    expect(await store.list('default')).toHaveLength(1);
  });
});
