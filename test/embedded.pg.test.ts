import pg from 'pg';
import { afterAll, expect, test } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/database.ts';

let db: TestDatabase | undefined;
afterAll(() => db?.drop());

test('the test server is a real PostgreSQL that accepts connections', async () => {
  db = await createTestDatabase();
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  const { rows } = await c.query<{ v: string }>('select version() as v');
  await c.end();
  expect(rows[0]!.v).toMatch(/^PostgreSQL \d+/);
});
