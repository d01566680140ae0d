import type pg from 'pg';
import { guardPool, inTransaction, labPool } from './pg-pool.ts';
import { ensureLabSchema, LAB_SCHEMA } from './pg-schema.ts';
import {
  AUTH_TYPE,
  sameAccount,
  type CreateAccountOutcome,
  type RadiusRow,
  type RadiusRowInput,
  type RadiusStore,
  type RadiusTables,
} from './radius-store.ts';

/**
 * A {@link RadiusStore} writing real FreeRADIUS `radcheck` / `radreply`
 * tables in the `lab` schema, created when missing.
 *
 * @remarks Given a connection string the store opens its own pool and
 * `close()` ends it; a pool passed in stays the caller's. Operations on one
 * username hold a transaction-scoped advisory lock on it, so concurrent
 * creates cannot both insert rows.
 *
 * @example
 * ```ts
 * const lab = createLab({ database: 'postgres://localhost/statekeeper_test' });
 * ```
 */
export class PgRadiusStore implements RadiusStore {
  private readonly pool: pg.Pool;
  private readonly ownsPool: boolean;
  private ready: Promise<void> | undefined;

  constructor(database: pg.Pool | string) {
    const { pool, owned } = labPool(database);
    this.pool = pool;
    this.ownsPool = owned;
    guardPool(pool);
  }

  async createAccount(username: string, rows: RadiusTables<RadiusRowInput>): Promise<CreateAccountOutcome> {
    return this.transaction(username, async (db) => {
      const stored = await accountRows(db, username);
      if (stored.radcheck.length + stored.radreply.length > 0) return sameAccount(stored, rows) ? 'exists' : 'conflict';
      for (const table of ['radcheck', 'radreply'] as const) {
        for (const r of rows[table]) {
          await db.query(`INSERT INTO ${LAB_SCHEMA}.${table} (username, attribute, op, value) VALUES ($1, $2, $3, $4)`, [
            username,
            r.attribute,
            r.op,
            r.value,
          ]);
        }
      }
      return 'created';
    });
  }

  async deleteAccount(username: string): Promise<void> {
    await this.transaction(username, async (db) => {
      await db.query(`DELETE FROM ${LAB_SCHEMA}.radcheck WHERE username = $1`, [username]);
      await db.query(`DELETE FROM ${LAB_SCHEMA}.radreply WHERE username = $1`, [username]);
    });
  }

  async setSuspended(username: string, suspended: boolean): Promise<boolean> {
    return this.transaction(username, async (db) => {
      const stored = await accountRows(db, username);
      if (stored.radcheck.length + stored.radreply.length === 0) return false;
      const rejecting = stored.radcheck.some((r) => r.attribute === AUTH_TYPE && r.op === ':=' && r.value === 'Reject');
      if (suspended && rejecting) return true;
      await db.query(`DELETE FROM ${LAB_SCHEMA}.radcheck WHERE username = $1 AND attribute = $2`, [username, AUTH_TYPE]);
      if (suspended) {
        await db.query(`INSERT INTO ${LAB_SCHEMA}.radcheck (username, attribute, op, value) VALUES ($1, $2, ':=', 'Reject')`, [
          username,
          AUTH_TYPE,
        ]);
      }
      return true;
    });
  }

  async rows(): Promise<RadiusTables> {
    await this.ensureSchema();
    const select = (table: string) =>
      this.pool.query<RadiusRow>(`SELECT id, username, attribute, op, value FROM ${LAB_SCHEMA}.${table} ORDER BY id`);
    const [radcheck, radreply] = await Promise.all([select('radcheck'), select('radreply')]);
    return { radcheck: radcheck.rows, radreply: radreply.rows };
  }

  async reset(): Promise<void> {
    await this.ensureSchema();
    await this.pool.query(`TRUNCATE ${LAB_SCHEMA}.radcheck, ${LAB_SCHEMA}.radreply RESTART IDENTITY`);
  }

  async close(): Promise<void> {
    if (this.ownsPool) await this.pool.end();
  }

  /** Creates the `lab` schema and its tables once per store. */
  ensureSchema(): Promise<void> {
    this.ready ??= this.createSchema().catch((error: unknown) => {
      this.ready = undefined;
      throw error;
    });
    return this.ready;
  }

  private createSchema(): Promise<void> {
    return ensureLabSchema(this.pool);
  }

  private async transaction<T>(username: string, work: (db: pg.PoolClient) => Promise<T>): Promise<T> {
    await this.ensureSchema();
    return inTransaction(this.pool, async (db) => {
      await db.query("SELECT pg_advisory_xact_lock(hashtext('lab.radius:' || $1))", [username]);
      return work(db);
    });
  }
}

async function accountRows(db: pg.PoolClient, username: string): Promise<RadiusTables<RadiusRowInput>> {
  const select = (table: string) =>
    db.query<RadiusRowInput>(`SELECT attribute, op, value FROM ${LAB_SCHEMA}.${table} WHERE username = $1`, [username]);
  return { radcheck: (await select('radcheck')).rows, radreply: (await select('radreply')).rows };
}
