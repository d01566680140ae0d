import { afterAll, beforeAll, expect, test } from 'vitest';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { PoolClient } from 'pg';
import { createTestDatabase, type TestDatabase } from '../../test/support/database.ts';
import { openDatabase } from './orm.ts';

let db: TestDatabase;
let orm: MikroORM;
beforeAll(async () => {
  db = await createTestDatabase();
  orm = await openDatabase({ url: db.url, poolSize: 3 });
}, 60_000);
afterAll(async () => {
  await orm?.close();
  await db?.drop();
});

// The server's default is on; every connection of the runtime's pool turns it off before its first statement.
test('every connection of the pool runs with JIT off, through the ORM and through the pool itself', async () => {
  const pool = await orm.em.getConnection().getNativeClient();
  const held: PoolClient[] = await Promise.all([pool.connect(), pool.connect(), pool.connect()]);
  try {
    const settings = await Promise.all(held.map(async (c) => (await c.query('show jit')).rows[0].jit));
    expect(settings).toEqual(['off', 'off', 'off']);
  } finally {
    for (const c of held) c.release();
  }
  const [row] = (await orm.em.getConnection().execute('show jit', [], 'all')) as { jit: string }[];
  expect(row!.jit).toBe('off');
  expect((await pool.query('select setting from pg_settings where name = $1', ['jit'])).rows[0].setting).toBe('off');
});
