import pg from 'pg';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { CommitRequest } from '../../runtime/ports.ts';
import { createTestDatabase, type TestDatabase } from '../../test/support/database.ts';
import { commitBatchSql } from './commit-sql.ts';
import { openDatabase } from './orm.ts';

/**
 * The commit's lookups of an instance's open effects go through narrow partial indexes (migrations
 * 20261209-open-timer-index and 20261209-open-effect-lookups), never through the index of every open
 * effect (`sk_effect_open_due_index`): that one also holds an entry for each effect closed since the last vacuum,
 * so its walk grows with the load, and for as long as a transaction holds back the xmin horizon. The plans are
 * those of a store like a busy one: most effects closed, few open, statistics current.
 */

let db: TestDatabase | undefined;
let conn: pg.Client;

beforeAll(async () => {
  db = await createTestDatabase();
  await (await openDatabase({ url: db.url, poolSize: 1 })).close(); // migrated
  conn = new pg.Client({ connectionString: db.url });
  await conn.connect();
  // 100k effects of 25k instances, 64 open (as many as workflows in flight); half of those are timers holding their
  // send id.
  await conn.query(
    `insert into sk_effect (id, instance_id, kind, name, status, attempts, due_at, created_at, updated_at, keyed)
     select 'e' || g, 'i' || (g / 4), case when g % 3126 = 0 then 'timer' else 'step' end, 'a',
       case when g % 1563 = 0 then 'pending' else 'done' end, 0, now(), now(), now(), g % 3126 = 0
     from generate_series(1, 100000) g`,
  );
  await conn.query('analyze sk_effect');
}, 60_000);

afterAll(async () => {
  await conn?.end();
  await db?.drop();
});

interface PlanNode {
  'Subplan Name'?: string;
  'Index Name'?: string;
  'Index Cond'?: string;
  'Relation Name'?: string;
  'Node Type': string;
  Plans?: PlanNode[];
}

const find = (n: PlanNode, name: string): PlanNode | undefined =>
  n['Subplan Name'] === name ? n : n.Plans?.map((p) => find(p, name)).find(Boolean);
/** The indexes a plan reads (` whole` when without an index condition) and its sequential scans. */
const scans = (n: PlanNode): string[] => [
  ...(n['Index Name']
    ? [`${n['Index Name']}${n['Index Cond'] ? '' : ' whole'}`]
    : n['Node Type'] === 'Seq Scan'
      ? [`seq ${n['Relation Name']}`]
      : []),
  ...(n.Plans ?? []).flatMap(scans),
];

/** The indexes (and sequential scans) the commit of `change` reads in its CTE `cte`. */
async function scansOf(change: Partial<CommitRequest>, cte: string): Promise<string[]> {
  const req: CommitRequest = {
    instanceId: 'i25',
    expectedVersion: 1,
    change: { snapshot: {}, status: 'active', stateValue: 'a', tags: [], output: null, error: null },
    event: { type: 'go', payload: null, source: 'api', actor: null, handled: true, idempotencyKey: null },
    newEffects: [],
    cancel: [],
    outbox: [],
    now: new Date(),
    ...change,
  };
  const batch = commitBatchSql([req], 'test');
  const { rows } = await conn.query(`explain (format json) ${batch.sql}`, batch.params);
  const node = find(rows[0]['QUERY PLAN'][0].Plan as PlanNode, `CTE ${cte}`);
  expect(node, `the statement has the CTE ${cte}`).toBeDefined();
  return scans(node!);
}

test('a send id scheduled again: the timers holding it are found by the open keyed timer index', async () => {
  const used = await scansOf({ superseded: ['a'] }, 'unkeyed');
  expect(used.filter((u) => u.startsWith('sk_effect_open_keyed_timer_index'))).toHaveLength(1);
  expect(used.filter((u) => !u.startsWith('sk_effect_open_keyed_timer_index'))).toEqual([]);
}, 30_000);

test('a cancel (a state with an invoke left): the instance’s open effects are found by instance, not by the open due index', async () => {
  const used = await scansOf({ cancel: [{ kind: 'actor', invokeId: 'a' }] }, 'cancelled');
  expect(used).toHaveLength(1);
  expect(['sk_effect_instance_id_seq_index', 'sk_effect_instance_id_kind_name_index']).toContain(used[0]);
}, 30_000);

test('a resume: the instance’s open timers are found by instance, not by the open due index', async () => {
  const used = await scansOf({ releaseTimers: true }, 'released');
  expect(used).toHaveLength(1);
  expect(['sk_effect_instance_id_seq_index', 'sk_effect_instance_id_kind_name_index']).toContain(used[0]);
}, 30_000);

test('the poller’s claim by due time still reads the open due index: its bound implies the index’s due_at is not null', async () => {
  // The claim's condition as `claimDue` (pg-instance-store.ts) writes it.
  const { rows } = await conn.query(
    `explain (format json) select id from sk_effect where status = 'pending' and due_at <= $1::timestamptz
       and (lease_until is null or lease_until < $2::timestamptz) order by due_at, seq limit 200`,
    [new Date().toISOString(), new Date().toISOString()],
  );
  expect(scans(rows[0]['QUERY PLAN'][0].Plan as PlanNode)).toEqual(['sk_effect_open_due_index']);
}, 30_000);
