import { afterAll } from 'vitest';
import { openDatabase } from '../../adapters/postgres/orm.ts';
import { PgInstanceStore } from '../../adapters/postgres/pg-instance-store.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';

/**
 * A Postgres-backed store factory for one test file: each call gets a store on
 * a fresh, migrated database; all are closed and dropped after the file.
 */
export function pgStoreFactory(): () => Promise<PgInstanceStore> {
  const opened: { db: TestDatabase; store: PgInstanceStore }[] = [];
  afterAll(async () => {
    for (const { db, store } of opened) {
      await store.close();
      await db.drop();
    }
  });
  return async () => {
    const db = await createTestDatabase();
    const orm = await openDatabase({ url: db.url, poolSize: 10 });
    const store = new PgInstanceStore(orm);
    opened.push({ db, store });
    return store;
  };
}
