import type pg from 'pg';
import { inTransaction } from './pg-pool.ts';

/** Schema the lab's tables live in, apart from the runtime's tables. */
export const LAB_SCHEMA = 'lab';

// Serialises DDL across processes that start labs on one database at once.
const DDL_LOCK = 0x1ab5_0001;

/**
 * The lab's tables. FreeRADIUS's `radcheck` / `radreply` as its
 * raddb/mods-config/sql/main/postgresql/schema.sql has them; every other
 * system's records as JSON rows in `records` (table = `system.kind`), in the
 * order first written (`seq`); results of mutating calls by key in `idempotency`.
 * `json`, not `jsonb`: a record reads back with its keys in the order written.
 * @remarks The lab owns this DDL: the runtime's migrations never touch the
 * `lab` schema, and the lab never touches the runtime's.
 */
const DDL = `
  CREATE SCHEMA IF NOT EXISTS ${LAB_SCHEMA};
  ${['radcheck', 'radreply']
    .map(
      (table) => `
  CREATE TABLE IF NOT EXISTS ${LAB_SCHEMA}.${table} (
    id        serial PRIMARY KEY,
    username  text NOT NULL DEFAULT '',
    attribute text NOT NULL DEFAULT '',
    op        varchar(2) NOT NULL DEFAULT '==',
    value     text NOT NULL DEFAULT ''
  );
  CREATE INDEX IF NOT EXISTS ${table}_username ON ${LAB_SCHEMA}.${table} (username, attribute);`,
    )
    .join('\n')}
  CREATE TABLE IF NOT EXISTS ${LAB_SCHEMA}.records (
    tbl  text NOT NULL,
    id   text NOT NULL,
    data json NOT NULL,
    seq  bigserial NOT NULL,
    PRIMARY KEY (tbl, id)
  );
  CREATE TABLE IF NOT EXISTS ${LAB_SCHEMA}.idempotency (
    scope      text NOT NULL,
    key        text NOT NULL,
    result     json NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
  );`;

/** Creates the `lab` schema and its tables where missing (safe to run from several processes at once). */
export function ensureLabSchema(pool: pg.Pool): Promise<void> {
  return inTransaction(pool, async (db) => {
    await db.query('SELECT pg_advisory_xact_lock($1)', [DDL_LOCK]);
    await db.query(DDL);
  });
}
