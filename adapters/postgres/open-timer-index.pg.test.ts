import pg from 'pg';
import { afterAll, expect, test } from 'vitest';
import type { CommitRequest } from '../../runtime/ports.ts';
import { createTestDatabase, type TestDatabase } from '../../test/support/database.ts';
import { commitBatchSql } from './commit-sql.ts';
import { openDatabase } from './orm.ts';

/**
 * A commit that frees a send id (a timer scheduled again, `superseded`) looks up the open keyed timers of its
 * instance through `sk_effect_open_keyed_timer_index` (migration 20261209-open-timer-index), never through the
 * index of every open effect, whose walk grows with each effect closed since the last vacuum (and for as long as
 * a transaction holds back the xmin horizon).
 */

let db: TestDatabase | undefined;
afterAll(async () => db?.drop());

interface PlanNode {
  'Subplan Name'?: string;
  'Index Name'?: string;
  'Relation Name'?: string;
  'Node Type': string;
  Plans?: PlanNode[];
}

const find = (n: PlanNode, name: string): PlanNode | undefined =>
  n['Subplan Name'] === name ? n : n.Plans?.map((p) => find(p, name)).find(Boolean);
const scans = (n: PlanNode): string[] => [
  ...(n['Index Name'] ? [n['Index Name']] : n['Node Type'] === 'Seq Scan' ? [`seq ${n['Relation Name']}`] : []),
  ...(n.Plans ?? []).flatMap(scans),
];

test('the commit finds the timers holding a superseded send id by the open keyed timer index', async () => {
  db = await createTestDatabase();
  await (await openDatabase({ url: db.url, poolSize: 1 })).close(); // migrated
  const conn = new pg.Client({ connectionString: db.url });
  await conn.connect();
  try {
    // A busy store: many open steps (each in sk_effect_open_due_index), a few armed timers.
    await conn.query(
      `insert into sk_effect (id, instance_id, kind, name, status, attempts, due_at, created_at, updated_at, keyed)
       select 'e' || g, 'i' || g, case when g % 100 = 0 then 'timer' else 'step' end, 't', 'pending', 0, now(), now(), now(), g % 100 = 0
       from generate_series(1, 5000) g`,
    );
    await conn.query('analyze sk_effect');
    const req: CommitRequest = {
      instanceId: 'i100',
      expectedVersion: 1,
      change: { snapshot: {}, status: 'active', stateValue: 'a', tags: [], output: null, error: null },
      event: { type: 'go', payload: null, source: 'api', actor: null, handled: true, idempotencyKey: null },
      newEffects: [],
      cancel: [],
      superseded: ['t'],
      outbox: [],
      now: new Date(),
    };
    const batch = commitBatchSql([req], 'test');
    const { rows } = await conn.query(`explain (format json) ${batch.sql}`, batch.params);
    const unkeyed = find(rows[0]['QUERY PLAN'][0].Plan as PlanNode, 'CTE unkeyed');
    expect(unkeyed).toBeDefined();
    const used = scans(unkeyed!);
    expect(used).toContain('sk_effect_open_keyed_timer_index');
    expect(used).not.toContain('sk_effect_open_due_index');
    expect(used).not.toContain('seq sk_effect');
  } finally {
    await conn.end();
  }
}, 60_000);
