import pg from 'pg';
import type { MikroORM } from '@mikro-orm/postgresql';
import { openDatabase } from '../../adapters/postgres/orm.ts';
import { PgInstanceStore, type PgInstanceStoreOptions } from '../../adapters/postgres/pg-instance-store.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';

/** A test database of its own, migrated, with the runtime's ORM and store on it and a plain client for rows written around them. */
export interface StoreDatabase {
  readonly db: TestDatabase;
  readonly orm: MikroORM;
  /** A connection outside the ORM's pool: direct SQL, as another writer or an operator would. */
  readonly raw: pg.Client;
  readonly store: PgInstanceStore;
  close(): Promise<void>;
}

export async function openStoreDatabase(poolSize = 4, storeOptions: PgInstanceStoreOptions = {}): Promise<StoreDatabase> {
  const db = await createTestDatabase();
  const orm = await openDatabase({ url: db.url, poolSize });
  const raw = new pg.Client({ connectionString: db.url });
  await raw.connect();
  return {
    db,
    orm,
    raw,
    store: new PgInstanceStore(orm, storeOptions),
    async close() {
      await raw.end();
      await orm.close();
      await db.drop();
    },
  };
}
