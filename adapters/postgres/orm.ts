import { MikroORM } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { OutboxMessage, WorkflowEffect, WorkflowEvent, WorkflowInstance } from './entities/index.ts';
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
    entities: [WorkflowInstance, WorkflowEvent, WorkflowEffect, OutboxMessage],
    extensions: [Migrator],
    migrations: { migrationsList, transactional: true, allOrNothing: true, tableName: 'sk_migrations' },
    pool: { min: 1, max: options.poolSize ?? 20 },
    debug: false,
    allowGlobalContext: false,
  });
  if (options.migrate !== false) await orm.migrator.up();
  return orm;
}
