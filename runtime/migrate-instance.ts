import type { Engine } from './engine.ts';
import { RuntimeError, MigrationRefusedError } from './errors.ts';
import type { MigrationReport } from './migration-plan.ts';
import { planMigration } from './migration-plan.ts';
import type { MigrationRegistry } from './migrations.ts';
import type { Registry } from './registry.ts';
import type { Caller } from './types.ts';

/** Options of {@link migrateInstance}. */
export interface MigrateOptions {
  /** The registered version of the instance's machine to move it to. */
  readonly to: string;
  /** Report what would happen and change nothing (default true: a migration is asked for explicitly). */
  readonly dryRun?: boolean;
  readonly reason?: string;
  readonly caller?: Caller;
  readonly tenant?: string;
}

const VERSION_RE = /^[a-z0-9][a-z0-9._-]{0,99}$/i;

/**
 * Moves an active instance to version `to` of its machine along the registered migrations (or as it is, when
 * none is registered for the pair: the target must then hold the snapshot unchanged), or reports what that
 * would do. See `migration-plan.ts` for what happens to open effects and `engine.ts` for the commit.
 *
 * @remarks Refusals (`migration_*`, `instance_not_active`, `machine_version_not_found`) are raised before
 * anything is written: the instance's row, snapshot, version and effects stay byte for byte as they were.
 */
export async function migrateInstance(
  o: { engine: Engine; registry: Registry; migrations: MigrationRegistry },
  storedId: string,
  options: MigrateOptions,
): Promise<MigrationReport> {
  if (typeof options.to !== 'string' || !VERSION_RE.test(options.to))
    throw RuntimeError.invalidArgument('migrate', `to must be a registered version (got ${JSON.stringify(options.to)})`);
  if (options.reason !== undefined && (typeof options.reason !== 'string' || options.reason.length > 500))
    throw RuntimeError.invalidArgument('migrate', 'reason must be a string of at most 500 characters');
  const dryRun = options.dryRun ?? true;
  const payload = options.reason ? { reason: options.reason } : {};
  return o.engine.migrate(
    storedId,
    { dryRun, tenant: options.tenant, caller: options.caller, payload },
    async ({ record, effects, planning }) => {
      if (record.machineVersion === options.to)
        throw new MigrationRefusedError(
          'migration_same_version',
          record.id,
          record.machineVersion,
          options.to,
          'it runs that version already',
        );
      const target = o.registry.resolve(`${record.machineId}@${options.to}`);
      return planMigration({
        record,
        effects,
        source: o.registry.find(record.machineId, record.machineVersion),
        target,
        chain: o.migrations.path(record.machineId, record.machineVersion, options.to),
        planning: planning(target),
        actor: options.caller?.id ?? null,
      });
    },
  );
}
