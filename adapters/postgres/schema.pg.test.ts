import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { MikroORM } from '@mikro-orm/postgresql';
import { openDatabase } from './index.ts';
import { createTestDatabase, type TestDatabase } from '../../test/support/database.ts';

/**
 * The schema is the migrations. The ORM's entities (only where it reads and
 * writes rows itself: API keys) must describe the tables those migrations
 * made, or the two sources would drift apart again.
 */
describe('schema source of truth', () => {
  let db: TestDatabase;
  let orm: MikroORM;
  beforeAll(async () => {
    db = await createTestDatabase();
    orm = await openDatabase({ url: db.url, poolSize: 2 });
  });
  afterAll(async () => {
    await orm.close();
    await db.drop();
  });

  test('after the migrations, the entities ask for no change to the tables they map', async () => {
    const sql = await orm.schema.getUpdateSchemaSQL({ wrap: false, safe: true });
    expect(sql.trim()).toBe('');
  });
});
