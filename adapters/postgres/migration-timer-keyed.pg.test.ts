import { afterAll, expect, test } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/support/database.ts';
import { migrationsList } from './migrations/index.ts';
import { openDatabase } from './orm.ts';

/**
 * Timer rows written before `sk_effect.keyed` existed: the migration gives the send id to the newest timer of
 * each instance and id when it is still open (a newer one that fired or was cancelled left the id free).
 */

let db: TestDatabase | undefined;
afterAll(async () => db?.drop());

test('open timers written before the column: the newest of each instance and send id holds it', async () => {
  db = await createTestDatabase();
  const orm = await openDatabase({ url: db.url, poolSize: 2, migrate: false });
  try {
    const before = migrationsList[migrationsList.findIndex((m) => m.name === 'Migration20261208TimerKeyed') - 1]!.name;
    await orm.migrator.up({ to: before });
    const conn = orm.em.getConnection();
    // In insertion (seq) order: i1 has x twice open then x fired; i2 has x and y open, and a step named x.
    const rows = [
      ['i1:timer:x:2', 'i1', 'timer', 'x', 'pending'],
      ['i1:timer:x:3', 'i1', 'timer', 'x', 'pending'],
      ['i1:timer:x:4', 'i1', 'timer', 'x', 'done'],
      ['i2:timer:x:2', 'i2', 'timer', 'x', 'pending'],
      ['i2:timer:x:3', 'i2', 'timer', 'x', 'pending'],
      ['i2:timer:y:3', 'i2', 'timer', 'y', 'pending'],
      ['i2:x:4', 'i2', 'step', 'x', 'pending'],
    ];
    for (const [id, instance, kind, name, status] of rows)
      await conn.execute(
        `insert into sk_effect (id, instance_id, kind, name, status, attempts, created_at, updated_at)
         values (?, ?, ?, ?, ?, 0, now(), now())`,
        [id, instance, kind, name, status],
      );
    await orm.migrator.up();
    const keyed = (await conn.execute('select id from sk_effect where keyed order by seq', [], 'all')) as { id: string }[];
    expect(keyed.map((r) => r.id)).toEqual(['i2:timer:x:3', 'i2:timer:y:3']);
  } finally {
    await orm.close();
  }
}, 60_000);
