import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { PgInstanceStore } from '../adapters/postgres/pg-instance-store.ts';
import { runtimeRoleGrants } from '../adapters/postgres/runtime-grants.ts';
import type { StoreStats } from '../runtime/ports.ts';
import { recount } from './support/stats-recount.ts';
import type { TestDatabase } from './support/database.ts';
import { openStoreDatabase, type StoreDatabase } from './support/store-database.ts';

/**
 * The stats counters (migration 20261209-stats-counters) against a full recount by the scans they replaced:
 * a random history of starts, transitions, finishes, retries, step rows and retention purges, compared after
 * every change, folded or not; concurrent folds; deletes in either order; the runtime role's grants.
 */

let opened: StoreDatabase;
let db: TestDatabase;
let raw: pg.Client;
let store: PgInstanceStore;

beforeAll(async () => {
  opened = await openStoreDatabase();
  ({ db, raw, store } = opened);
}, 60_000);
afterAll(async () => {
  await opened?.close();
});

const TENANTS = ['acme', 'other'];
const MACHINES = ['order', 'refund', 'ship'];
const T0 = Date.parse('2026-11-01T00:00:00Z');

/**
 * The recount with max as the counters keep it: the longest run seen. Called after every change, so every
 * finished row version is seen (`seen` keeps the marks by tenant and machine).
 */
async function expected(c: pg.Client, tenant: string, seen: Map<string, number>): Promise<StoreStats> {
  const s = await recount(c, tenant);
  for (const d of s.durations) {
    const key = `${tenant}/${d.machineId}`;
    seen.set(key, Math.max(seen.get(key) ?? Number.NEGATIVE_INFINITY, d.maxMs));
    d.maxMs = seen.get(key)!;
  }
  return s;
}

/** A small deterministic generator (mulberry32), so a failure replays. */
function random(seed: number) {
  let a = seed;
  const next = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n: number) => Math.floor(next() * n), pick: <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]! };
}

const deltaRows = async (c: pg.Client) => Number((await c.query(`select count(*) from sk_stats_delta`)).rows[0].count);
const ts = (ms: number) => new Date(ms).toISOString();

async function insertInstance(c: pg.Client, id: string, tenant: string, machine: string, at: number) {
  await c.query(
    `insert into sk_instance (id, tenant, machine_id, machine_version, status, state_value, tags, snapshot, created_at, updated_at)
     values ($1, $2, $3, '1', 'active', '"s"', '[]', '{}', $4, $4)`,
    [id, tenant, machine, ts(at)],
  );
}

async function insertStep(
  c: pg.Client,
  id: string,
  instance: string,
  name: string,
  target: string | null,
  status = 'pending',
  attempts = 0,
) {
  await c.query(
    `insert into sk_effect (id, instance_id, kind, name, target, status, attempts, created_at, updated_at)
     values ($1, $2, 'step', $3, $4, $5, $6, now(), now())`,
    [id, instance, name, target, status, attempts],
  );
}

describe('stats counters on Postgres', () => {
  test('a random history of instances, steps and purges: the counters equal a full recount after every change', async () => {
    const rnd = random(20261209);
    const seen = new Map<string, number>();
    let now = T0;
    let n = 0;
    // One row of the table, picked by the generator (rows in id order: the pick replays).
    const pick = async (sql: string): Promise<string | undefined> => {
      const rows = (await raw.query(`${sql} order by id`)).rows;
      return rows.length ? String(rows[rnd.int(rows.length)].id) : undefined;
    };
    const outputs = [{ outcome: 'completed' }, { outcome: 'refunded' }, { outcome: 5 }, { other: 1 }, null];
    const ops: [weight: number, name: string, run: () => Promise<void>][] = [
      [20, 'start', async () => insertInstance(raw, `i${++n}`, rnd.pick(TENANTS), rnd.pick(MACHINES), now)],
      [
        15,
        'transition',
        async () => {
          const id = await pick(`select id from sk_instance where status = 'active'`);
          if (!id) return;
          // An ordinary transition writes no delta: the triggers' conditions keep the hot path free.
          const before = await deltaRows(raw);
          await raw.query(`update sk_instance set snapshot = $2, version = version + 1, updated_at = $3 where id = $1`, [
            id,
            JSON.stringify({ at: now }),
            ts(now),
          ]);
          expect(await deltaRows(raw)).toBe(before);
        },
      ],
      [
        15,
        'finish',
        async () => {
          const id = await pick(`select id from sk_instance where status = 'active'`);
          const output = rnd.pick(outputs);
          if (id)
            await raw.query(`update sk_instance set status = $2, output = $3, version = version + 1, updated_at = $4 where id = $1`, [
              id,
              rnd.pick(['done', 'done', 'error', 'stopped']),
              output === null ? null : JSON.stringify(output),
              ts(now),
            ]);
        },
      ],
      [
        6,
        'retry an errored instance',
        async () => {
          const id = await pick(`select id from sk_instance where status = 'error'`);
          if (id) await raw.query(`update sk_instance set status = 'active', output = null, updated_at = $2 where id = $1`, [id, ts(now)]);
        },
      ],
      [
        4,
        'commit on a finished instance',
        async () => {
          const id = await pick(`select id from sk_instance where status <> 'active'`);
          if (id) await raw.query(`update sk_instance set paused = not paused, updated_at = $2 where id = $1`, [id, ts(now)]);
        },
      ],
      [
        15,
        'step written',
        async () => {
          const id = await pick(`select id from sk_instance`);
          if (id) await insertStep(raw, `e${++n}`, id, rnd.pick(['a', 'b', 'c']), rnd.pick([null, null, 'charge']));
        },
      ],
      [
        10,
        'step attempt',
        async () => {
          const id = await pick(`select id from sk_effect where kind = 'step' and status = 'pending'`);
          if (!id) return;
          const [{ attempts }] = (await raw.query(`select attempts from sk_effect where id = $1`, [id])).rows;
          const before = await deltaRows(raw);
          await raw.query(`update sk_effect set attempts = attempts + 1, lease_owner = 'w', updated_at = now() where id = $1`, [id]);
          // The first attempt counts nothing: no delta.
          if (attempts === 0) expect(await deltaRows(raw)).toBe(before);
        },
      ],
      [
        10,
        'step closed',
        async () => {
          const id = await pick(`select id from sk_effect where kind = 'step' and status = 'pending'`);
          if (id)
            await raw.query(`update sk_effect set status = $2, closed_at = now(), lease_owner = null where id = $1`, [
              id,
              rnd.pick(['done', 'done', 'failed']),
            ]);
        },
      ],
      [
        4,
        'timer written',
        async () => {
          const id = await pick(`select id from sk_instance`);
          if (!id) return;
          const before = await deltaRows(raw);
          await raw.query(
            `insert into sk_effect (id, instance_id, kind, name, status, attempts, due_at, created_at, updated_at)
             values ($1, $2, 'timer', 'a', 'pending', 0, now(), now(), now())`,
            [`t${++n}`, id],
          );
          expect(await deltaRows(raw)).toBe(before);
        },
      ],
      [1, 'step of no instance', async () => insertStep(raw, `x${++n}`, `missing-${n}`, 'a', null)],
      [
        5,
        'retention purge',
        async () => {
          await raw.query(`select sk_retention_purge($1, null, null, $2, $3, $4, false, $5)`, [
            rnd.pick([null, ...TENANTS]),
            ts(now - rnd.int(60_000)),
            rnd.next() < 0.5,
            1 + rnd.int(6),
            ts(now),
          ]);
        },
      ],
      [4, 'fold', async () => void (await store.foldStats())],
    ];
    const total = ops.reduce((a, [w]) => a + w, 0);
    const done = new Map<string, number>();
    for (let i = 0; i < 500; i++) {
      now += 1 + rnd.int(3000);
      let r = rnd.int(total);
      const [, name, run] = ops.find(([w]) => (r -= w) < 0)!;
      await run();
      done.set(name, (done.get(name) ?? 0) + 1);
      for (const tenant of TENANTS)
        expect(await store.stats(tenant), `after op ${i} (${name}), ${tenant}`).toEqual(await expected(raw, tenant, seen));
    }
    // Every kind of change happened, and the history left something to count.
    expect(done.size).toBe(ops.length);
    const purged = Number((await raw.query(`select count(*) from sk_archive_instance`)).rows[0].count);
    expect(purged).toBeGreaterThan(0);
    expect(await deltaRows(raw)).toBeGreaterThan(0);
    // Folded or not, the same answer.
    const unfolded = await Promise.all(TENANTS.map((t) => store.stats(t)));
    expect(await store.foldStats()).toBeGreaterThan(0);
    expect(await deltaRows(raw)).toBe(0);
    expect(await Promise.all(TENANTS.map((t) => store.stats(t)))).toEqual(unfolded);
    for (const [i, tenant] of TENANTS.entries()) expect(unfolded[i]).toEqual(await expected(raw, tenant, seen));
    // With every instance of a tenant purged, no duration row is left (their high-water marks stay in the counters).
    await raw.query(`update sk_instance set paused = false`);
    await raw.query(`select sk_retention_purge('other', null, null, $1, false, 100000, false, $1)`, [ts(now + 1)]);
    const left = await store.stats('other');
    expect(left.durations).toEqual([]);
    expect(left).toEqual(await expected(raw, 'other', seen));
  }, 120_000);

  test('two folds at once: one folds, the other skips; deltas of a transaction still open wait for the next fold', async () => {
    const a = new pg.Client({ connectionString: db.url });
    const b = new pg.Client({ connectionString: db.url });
    await a.connect();
    await b.connect();
    try {
      await store.foldStats();
      for (let i = 0; i < 20; i++) {
        await insertInstance(raw, `f${i}`, 'fold', 'order', T0);
        await insertStep(raw, `f${i}:s`, `f${i}`, 'a', null, i % 2 ? 'failed' : 'done', 1 + (i % 3));
      }
      // A writer whose transaction is still open when the folds run.
      await b.query('begin');
      await insertInstance(b, 'open-1', 'fold', 'order', T0);
      await a.query('begin');
      expect(Number((await a.query(`select sk_stats_fold() as n`)).rows[0].n)).toBe(40);
      // The lock is held until a commits: a second fold skips rather than waits.
      expect(await store.foldStats()).toBeNull();
      await a.query('commit');
      await b.query('commit');
      const want = await recount(raw, 'fold');
      expect(await store.stats('fold')).toEqual(want);
      // Folds racing each other (and inserts): whatever each takes, nothing is lost or counted twice.
      const writes = (async () => {
        for (let i = 0; i < 10; i++) await insertStep(raw, `f${i}:t`, `f${i}`, 'b', null, 'failed', 2);
      })();
      const folded = await Promise.all(Array.from({ length: 6 }, () => store.foldStats()));
      await writes;
      expect(folded.some((f) => f !== null)).toBe(true);
      await store.foldStats();
      expect(await deltaRows(raw)).toBe(0);
      expect(await store.stats('fold')).toEqual(await recount(raw, 'fold'));
      expect((await store.stats('fold')).steps).toEqual([
        { name: 'a', total: 20, failed: 10, retries: 19 },
        { name: 'b', total: 10, failed: 10, retries: 10 },
      ]);
    } finally {
      await a.end();
      await b.end();
    }
  }, 60_000);

  test('an instance deleted before its steps in one transaction: the steps are still taken off its tenant', async () => {
    await insertInstance(raw, 'rev-1', 'reverse', 'order', T0);
    await raw.query(`update sk_instance set status = 'done', updated_at = $2 where id = $1`, ['rev-1', ts(T0 + 500)]);
    await insertStep(raw, 'rev-1:a', 'rev-1', 'a', null, 'failed', 3);
    await insertStep(raw, 'rev-1:b', 'rev-1', 'b', null, 'done', 1);
    expect((await store.stats('reverse')).steps).toHaveLength(2);
    await raw.query('begin');
    await raw.query(`delete from sk_instance where id = 'rev-1'`);
    await raw.query(`delete from sk_effect where instance_id = 'rev-1'`);
    await raw.query('commit');
    expect(await store.stats('reverse')).toEqual({
      instances: [],
      steps: [],
      outcomes: [],
      durations: [],
    });
    await store.foldStats();
    expect((await store.stats('reverse')).steps).toEqual([]);
  }, 60_000);

  test('the runtime role writes counted rows and folds, yet cannot rewrite the counters', async () => {
    const role = `sk_rt_${Math.random().toString(36).slice(2, 10)}`;
    await raw.query(`create role ${role} login password 'runtime-pw' nosuperuser nocreatedb nocreaterole`);
    for (const sql of runtimeRoleGrants(role)) await raw.query(sql);
    const u = new URL(db.url);
    u.username = role;
    u.password = 'runtime-pw';
    const asRuntime = new pg.Client({ connectionString: u.toString() });
    await asRuntime.connect();
    try {
      await insertInstance(asRuntime, 'rt-1', 'role', 'order', T0);
      await insertStep(asRuntime, 'rt-1:a', 'rt-1', 'a', null, 'pending', 0);
      await asRuntime.query(`update sk_effect set status = 'failed', attempts = 2 where id = 'rt-1:a'`);
      await asRuntime.query(`update sk_instance set status = 'done', updated_at = $1 where id = 'rt-1'`, [ts(T0 + 1000)]);
      expect(Number((await asRuntime.query(`select sk_stats_fold() as n`)).rows[0].n)).toBeGreaterThan(0);
      await expect(asRuntime.query(`update sk_stats_counter set n = 0`)).rejects.toThrow(/permission denied/);
      await expect(asRuntime.query(`delete from sk_stats_delta`)).rejects.toThrow(/permission denied/);
      expect(await store.stats('role')).toEqual({
        instances: [{ machineId: 'order', status: 'done', count: 1 }],
        steps: [{ name: 'a', total: 1, failed: 1, retries: 1 }],
        outcomes: [],
        durations: [{ machineId: 'order', finished: 1, meanMs: 1000, maxMs: 1000 }],
      });
    } finally {
      await asRuntime.end();
    }
  }, 60_000);
});
