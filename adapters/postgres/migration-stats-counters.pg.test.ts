import { afterAll, expect, test } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/support/database.ts';
import { migrationsList } from './migrations/index.ts';
import { openDatabase } from './orm.ts';
import { PgInstanceStore } from './pg-instance-store.ts';

/**
 * Rows written before the stats counters existed: the migration counts them in one pass, so the counters
 * answer the same as the scans did, and the triggers carry on from there.
 */

let db: TestDatabase | undefined;
afterAll(async () => db?.drop());

test('instances and steps stored before the migration are counted by it', async () => {
  db = await createTestDatabase();
  const orm = await openDatabase({ url: db.url, poolSize: 2, migrate: false });
  try {
    const before = migrationsList[migrationsList.findIndex((m) => m.name === 'Migration20261209StatsCounters') - 1]!.name;
    await orm.migrator.up({ to: before });
    const conn = orm.em.getConnection();
    const instances = [
      ['o1', 'acme', 'order', 'done', '{"outcome":"completed"}', 1000],
      ['o2', 'acme', 'order', 'error', null, 3000],
      ['o3', 'acme', 'order', 'active', '{"outcome":"not yet"}', 9000],
      ['r1', 'acme', 'refund', 'stopped', '{"outcome":5}', 500],
      ['x1', 'other', 'order', 'done', '{"outcome":"completed"}', 7000],
    ] as const;
    for (const [id, tenant, machine, status, output, ms] of instances)
      await conn.execute(
        `insert into sk_instance (id, tenant, machine_id, machine_version, status, state_value, tags, snapshot, output,
           created_at, updated_at)
         values (?, ?, ?, '1', ?, '"s"', '[]', '{}', ?::jsonb, timestamptz '2026-12-01', timestamptz '2026-12-01' + ? * interval '1 ms')`,
        [id, tenant, machine, status, output, ms],
      );
    const steps = [
      ['o1:a', 'o1', 'step', 'a', 'charge', 'done', 2],
      ['o2:a', 'o2', 'step', 'a', 'charge', 'failed', 3],
      ['o3:b', 'o3', 'step', 'b', null, 'pending', 1],
      ['o3:t', 'o3', 'timer', 'wait', null, 'pending', 0],
      ['x1:a', 'x1', 'step', 'a', 'charge', 'failed', 1],
    ] as const;
    for (const [id, instance, kind, name, target, status, attempts] of steps)
      await conn.execute(
        `insert into sk_effect (id, instance_id, kind, name, target, status, attempts, created_at, updated_at)
         values (?, ?, ?, ?, ?, ?, ?, now(), now())`,
        [id, instance, kind, name, target, status, attempts],
      );
    await orm.migrator.up();
    // Counted by the migration itself: no delta waits to be folded.
    expect(await conn.execute('select count(*)::int as n from sk_stats_delta', [], 'get')).toEqual({ n: 0 });
    const store = new PgInstanceStore(orm);
    expect(await store.stats('acme')).toEqual({
      instances: [
        { machineId: 'order', status: 'active', count: 1 },
        { machineId: 'order', status: 'done', count: 1 },
        { machineId: 'order', status: 'error', count: 1 },
        { machineId: 'refund', status: 'stopped', count: 1 },
      ],
      steps: [
        { name: 'b', total: 1, failed: 0, retries: 0 },
        { name: 'charge', total: 2, failed: 1, retries: 3 },
      ],
      outcomes: [{ machineId: 'order', outcome: 'completed', count: 1 }],
      durations: [
        { machineId: 'order', finished: 2, meanMs: 2000, maxMs: 3000 },
        { machineId: 'refund', finished: 1, meanMs: 500, maxMs: 500 },
      ],
    });
    // From here the triggers count: o3 finishes.
    await conn.execute(`update sk_instance set status = 'done', updated_at = created_at + interval '5 s' where id = 'o3'`);
    expect((await store.stats('acme')).durations[0]).toEqual({ machineId: 'order', finished: 3, meanMs: 3000, maxMs: 5000 });
    expect((await store.stats('other')).steps).toEqual([{ name: 'charge', total: 1, failed: 1, retries: 0 }]);
  } finally {
    await orm.close();
  }
}, 60_000);
