import { MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
import { Migrator } from '@mikro-orm/migrations';
import { ApiKey } from './entities/index.ts';
import { migrationsList } from './migrations/index.ts';

/** Options of {@link openDatabase}. */
export interface OpenDatabaseOptions {
  readonly url: string;
  /** Connection pool size (default 20). */
  readonly poolSize?: number;
  /** Apply pending migrations on open (default true). */
  readonly migrate?: boolean;
}

/**
 * Opens MikroORM on a PostgreSQL database and applies the committed migrations.
 * @remarks Migrations are bundled as classes (no file globbing), so the same
 * list runs from source, tests and any packaging.
 */
export async function openDatabase(options: OpenDatabaseOptions): Promise<MikroORM> {
  const orm = await MikroORM.init({
    clientUrl: options.url,
    // The schema is the migrations; entities exist only where the ORM reads and writes rows (API keys).
    entities: [ApiKey],
    extensions: [Migrator],
    migrations: { migrationsList, transactional: true, allOrNothing: true, tableName: 'sk_migrations', silent: true, snapshot: false },
    pool: { min: 1, max: options.poolSize ?? 20 },
    debug: false,
    allowGlobalContext: false,
  });
  if (options.migrate !== false) await migrateExclusively(orm, options.url);
  return orm;
}

// Any constant works; it only has to be the same in every process sharing the database.
const MIGRATION_LOCK = 0x5354_4b50;

/**
 * Applies pending migrations while holding a Postgres advisory lock, so
 * several processes starting at once against one database do not race to
 * create the same tables (seen as `pg_type_typname_nsp_index` violations).
 *
 * @remarks The lock is a transaction's (`pg_advisory_xact_lock` in a transaction kept open meanwhile),
 * not a session's: through PgBouncer in transaction mode a session lock could be taken on one server
 * connection and released on another, and stay held; an open transaction keeps its server connection.
 */
async function migrateExclusively(orm: MikroORM, url: string): Promise<void> {
  const lock = new pg.Client({ connectionString: url });
  // A connection dropped while migrating is reported by the failing query; the event must not end the process.
  lock.on('error', () => undefined);
  await lock.connect();
  try {
    await lock.query('begin');
    await lock.query('select pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await orm.migrator.up();
  } finally {
    await lock.query('commit').catch(() => undefined);
    await lock.end();
  }
}
