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
    // Right after the pool is made, before its first connection: every connection turns JIT off first (sessionSettings).
    driverOptions: { onPoolCreated: (pool: pg.Pool) => pool.on('connect', sessionSettings) },
    debug: false,
    allowGlobalContext: false,
  });
  if (options.migrate !== false) await migrateExclusively(orm, options.url);
  return orm;
}

/**
 * Settings of every connection of the runtime's pool, queued before its first statement (a client runs its
 * queries in order, and the pool emits `connect` before it hands the client out).
 *
 * @remarks `jit = off`: the runtime's statements are short, and JIT compiling one costs far more than running it.
 * PostgreSQL compiles a statement whose plan's estimated cost passes `jit_above_cost` (100,000), and the planner
 * takes a jsonb request for 100 rows with 100 elements each: the create statement of a machine that emits on
 * entry was estimated at about 120,000 and compiled at every run. On Debian's PostgreSQL 15 such a start took
 * 53.6 ms at p50 against 1.0 ms with JIT off. Through a pooler in transaction mode a session setting does not
 * follow the client: there, set it for the runtime's role (`alter role … set jit = off`).
 */
function sessionSettings(client: pg.PoolClient): void {
  // A failure here shows again on the client's next query; this one must not be an unhandled rejection.
  client.query('set jit = off').catch(() => undefined);
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
