import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../test/support/database.ts';
import { createLab, type Lab } from './lab.ts';

let db: TestDatabase;
let pool: pg.Pool;
let n = 0;
const o = () => ({ idempotencyKey: `pg-radius-${++n}` });

beforeAll(async () => {
  db = await createTestDatabase();
  pool = new pg.Pool({ connectionString: db.url, max: 6 });
});
afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

/** The rows as FreeRADIUS would read them, straight from the tables. */
async function table(name: 'radcheck' | 'radreply', username: string) {
  const { rows } = await pool.query(`SELECT username, attribute, op, value FROM lab.${name} WHERE username = $1 ORDER BY id`, [username]);
  return rows;
}

async function withLab(test: (lab: Lab) => Promise<void>, database: pg.Pool | string = pool) {
  const lab = createLab({ database });
  try {
    await test(lab);
  } finally {
    await lab.close();
  }
}

describe('RADIUS on Postgres (lab.radcheck / lab.radreply)', () => {
  it('creates the lab schema and FreeRADIUS tables, and writes the account rows', () =>
    withLab(async (lab) => {
      await lab.clients.radius.createAccount({ username: 'ada', password: 's3cret', framedIp: '10.0.0.5/24', rateLimit: '10M/50M' }, o());
      expect(await table('radcheck', 'ada')).toEqual([{ username: 'ada', attribute: 'Cleartext-Password', op: ':=', value: 's3cret' }]);
      expect(await table('radreply', 'ada')).toEqual([
        { username: 'ada', attribute: 'Framed-IP-Address', op: '=', value: '10.0.0.5' },
        { username: 'ada', attribute: 'Mikrotik-Rate-Limit', op: '=', value: '10M/50M' },
      ]);
      const { rows } = await pool.query(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'lab' AND table_name = 'radcheck' " +
          'ORDER BY ordinal_position',
      );
      expect(rows.map((r) => r.column_name)).toEqual(['id', 'username', 'attribute', 'op', 'value']);
      expect(await lab.liveRecords()).toContainEqual({ system: 'radius', kind: 'account', id: 'ada' });
    }));

  it('suspends with Auth-Type := Reject and resumes', () =>
    withLab(async (lab) => {
      await lab.clients.radius.createAccount({ username: 'bob', password: 'pw' }, o());
      await lab.clients.radius.setSuspended('bob', true, o());
      await lab.clients.radius.setSuspended('bob', true, o());
      expect(await table('radcheck', 'bob')).toEqual([
        { username: 'bob', attribute: 'Cleartext-Password', op: ':=', value: 'pw' },
        { username: 'bob', attribute: 'Auth-Type', op: ':=', value: 'Reject' },
      ]);
      await lab.clients.radius.setSuspended('bob', false, o());
      expect((await table('radcheck', 'bob')).map((r) => r.attribute)).toEqual(['Cleartext-Password']);
      await expect(lab.clients.radius.setSuspended('nobody', true, o())).rejects.toMatchObject({ status: 404, retryable: false });
    }));

  it('failAfterApply, then the retry with the same key: one set of rows', () =>
    withLab(async (lab) => {
      lab.faults.inject({ system: 'radius', operation: 'createAccount', mode: 'failAfterApply', times: 1 });
      const key = o();
      await expect(lab.clients.radius.createAccount({ username: 'cy', password: 'pw', framedIp: '10.0.0.7' }, key)).rejects.toMatchObject({
        retryable: true,
      });
      expect(await table('radreply', 'cy')).toHaveLength(1);
      await expect(lab.clients.radius.createAccount({ username: 'cy', password: 'pw', framedIp: '10.0.0.7' }, key)).resolves.toEqual({
        username: 'cy',
      });
      expect(await table('radcheck', 'cy')).toHaveLength(1);
      expect(await table('radreply', 'cy')).toHaveLength(1);
    }));

  it('a new lab on the same database (its key ledger lost) finds the account instead of duplicating it', async () => {
    await withLab((lab) =>
      lab.clients.radius.createAccount({ username: 'dee', password: 'pw' }, { idempotencyKey: 'dee-create' }).then(() => {}),
    );
    await withLab(async (lab) => {
      await expect(
        lab.clients.radius.createAccount({ username: 'dee', password: 'pw' }, { idempotencyKey: 'dee-create' }),
      ).resolves.toEqual({ username: 'dee' });
      await expect(lab.clients.radius.createAccount({ username: 'dee', password: 'other' }, o())).rejects.toMatchObject({
        code: 'conflict',
      });
    }, db.url);
    expect(await table('radcheck', 'dee')).toHaveLength(1);
  });

  it('concurrent creates of one username from two labs insert one set of rows', async () => {
    const a = createLab({ database: db.url });
    const b = createLab({ database: db.url });
    try {
      const req = { username: 'eve', password: 'pw', framedIp: '10.0.0.9' };
      const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b).clients.radius.createAccount(req, o())));
      expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
      expect(await table('radcheck', 'eve')).toHaveLength(1);
      expect(await table('radreply', 'eve')).toHaveLength(1);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('deletes every row; deleting again succeeds; reset truncates', () =>
    withLab(async (lab) => {
      await lab.clients.radius.createAccount({ username: 'fay', password: 'pw', rateLimit: '1M/1M' }, o());
      await lab.clients.radius.setSuspended('fay', true, o());
      await lab.clients.radius.deleteAccount('fay', o());
      await lab.clients.radius.deleteAccount('fay', o());
      expect(await table('radcheck', 'fay')).toEqual([]);
      expect(await table('radreply', 'fay')).toEqual([]);
      await lab.reset();
      expect((await pool.query('SELECT count(*)::int AS n FROM lab.radcheck')).rows[0].n).toBe(0);
      expect(await lab.records().then((r) => r.radius)).toEqual({ radcheck: [], radreply: [] });
    }));

  it('a pool passed in stays open after lab.close()', async () => {
    const lab = createLab({ database: pool });
    await lab.close();
    expect((await pool.query('SELECT 1 AS one')).rows[0].one).toBe(1);
  });

  it('an unreachable database is a retryable upstream error', async () => {
    const lab = createLab({ database: 'postgres://nobody@127.0.0.1:1/none' });
    try {
      await expect(lab.clients.radius.createAccount({ username: 'x', password: 'pw' }, o())).rejects.toMatchObject({
        code: 'upstream_error',
        retryable: true,
        status: 503,
      });
    } finally {
      await lab.close();
    }
  });
});
