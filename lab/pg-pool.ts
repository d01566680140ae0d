import pg from 'pg';

const guarded = new WeakSet<pg.Pool>();

/** A pool from a connection string (owned: the caller ends it) or the pool given (the giver's). */
export function labPool(database: pg.Pool | string): { pool: pg.Pool; owned: boolean } {
  const owned = typeof database === 'string';
  const pool = typeof database === 'string' ? new pg.Pool({ connectionString: database, max: 4 }) : database;
  guardPool(pool);
  return { pool, owned };
}

/**
 * A dropped connection (server restart, `pg_terminate_backend`) is emitted as
 * an `'error'` event, and one without a listener ends the process. The query
 * in flight rejects on its own and the pool discards the client, so logging
 * is all that is left to do. Clients need their own listener: the pool
 * removes its listener from a client while it is checked out.
 */
export function guardPool(pool: pg.Pool): void {
  if (guarded.has(pool)) return;
  guarded.add(pool);
  // Once the pool is being ended (the lab is stopping), a connection the database drops is expected: stay quiet.
  const warn = (e: Error) => {
    if (!(pool as pg.Pool & { ending?: boolean }).ending) console.warn(`lab: PostgreSQL connection lost (${e.message})`);
  };
  pool.on('error', warn);
  pool.on('connect', (client) => client.on('error', warn));
}

/** Runs `work` in a transaction on one client of the pool. */
export async function inTransaction<T>(pool: pg.Pool, work: (db: pg.PoolClient) => Promise<T>): Promise<T> {
  const db = await pool.connect();
  try {
    await db.query('BEGIN');
    const result = await work(db);
    await db.query('COMMIT');
    return result;
  } catch (error) {
    await db.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    db.release();
  }
}
