import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AnyStateMachine } from 'xstate';
import {
  isStandardSchema,
  migrateSnapshot,
  MigrationRefusedError,
  MigrationRegistry,
  OPERATOR_EVENTS,
  type InstanceRecord,
  type MigrationDefinition,
  type RegisteredMachine,
  type StandardSchemaV1,
} from '../runtime/index.ts';
import { isMachine, type Registry } from '../runtime/registry.ts';

/** The definition live snapshots are checked against, and the migrations that lead to it. */
export interface CheckTarget {
  readonly target: RegisteredMachine;
  readonly migrations: MigrationRegistry;
}

/** Options of {@link checkVersionsCommand}. */
export interface CheckVersionsOptions extends CheckTarget {
  /** Only instances whose version has a registered migration path to the target (and those on it). */
  readonly migratableOnly?: boolean;
  readonly json?: boolean;
  readonly out?: (line: string) => void;
}

/**
 * `statekeeper check-versions`: every live (active) snapshot of the target's machine is migrated in memory
 * as `POST /v1/instances/{id}/migrate` would (the registered migration path, else as it is) and restored with
 * the target; nothing is written. One line per instance (ok, or incompatible with the refusal's code and
 * reason), then the counts. Exit code 1 when one is incompatible.
 */
export async function checkVersionsCommand(instances: AsyncIterable<InstanceRecord>, o: CheckVersionsOptions): Promise<number> {
  const out = o.out ?? ((line: string) => console.log(line));
  const { target } = o;
  const byVersion = new Map<string, { ok: number; incompatible: number }>();
  let skipped = 0;
  for await (const record of instances) {
    const chain =
      record.machineVersion === target.version ? [] : o.migrations.path(record.machineId, record.machineVersion, target.version);
    if (o.migratableOnly && chain === undefined) {
      skipped++;
      continue;
    }
    const counts = byVersion.get(record.machineVersion) ?? { ok: 0, incompatible: 0 };
    byVersion.set(record.machineVersion, counts);
    const line = { instanceId: record.id, tenant: record.tenant, version: record.machineVersion, to: target.version };
    try {
      const migrated = await migrateSnapshot({ record, target, chain });
      counts.ok++;
      const how = migrated.path.kind === 'identity' ? 'as it is' : migrated.path.steps.join(', ');
      out(
        o.json
          ? JSON.stringify({ ...line, ok: true, migration: migrated.path })
          : `ok\t${record.id}\t${record.machineVersion} → ${target.version}\t${how}`,
      );
    } catch (e) {
      if (!(e instanceof MigrationRefusedError)) throw e;
      counts.incompatible++;
      out(
        o.json
          ? JSON.stringify({ ...line, ok: false, code: e.code, message: e.message, details: e.details })
          : `incompatible\t${record.id}\t${record.machineVersion} → ${target.version}\t${e.code}: ${e.message}`,
      );
    }
  }
  const ok = [...byVersion.values()].reduce((n, c) => n + c.ok, 0);
  const incompatible = [...byVersion.values()].reduce((n, c) => n + c.incompatible, 0);
  const summary = { machine: target.ref, checked: ok + incompatible, ok, incompatible, skipped, byVersion: Object.fromEntries(byVersion) };
  if (o.json) out(JSON.stringify({ summary }));
  else {
    const versions = [...byVersion].map(([v, c]) => `${v}: ${c.ok} ok, ${c.incompatible} incompatible`).join('; ');
    out(
      `${summary.checked} live instances of ${target.id} checked against ${target.ref}: ${ok} ok, ${incompatible} incompatible` +
        `${versions ? ` (${versions})` : ''}${skipped ? `; ${skipped} skipped (no migration path)` : ''}`,
    );
  }
  return incompatible === 0 ? 0 : 1;
}

/** What a definition module may export (as its default export, or under `--export`). */
interface ModuleDefinition {
  machine: AnyStateMachine;
  version?: string;
  contextSchema?: StandardSchemaV1;
  migrations?: MigrationDefinition[];
}

/**
 * The target from a module: its export is a machine (`--version` names its version), or
 * `{ machine, version?, contextSchema?, migrations? }`; a `migrations` export of the module counts too.
 */
export async function targetFromModule(
  file: string,
  o: { exportName?: string; version?: string; registry: Registry },
): Promise<CheckTarget> {
  const mod = (await import(pathToFileURL(path.resolve(file)).href)) as Record<string, unknown>;
  const name = o.exportName ?? 'default';
  const exported = mod[name];
  if (exported === undefined) throw new Error(`${file} has no export "${name}" (use --export <name>).`);
  const def: ModuleDefinition = isMachine(exported) ? { machine: exported } : (exported as ModuleDefinition);
  if (!isMachine(def?.machine)) throw new Error(`export "${name}" of ${file} is neither a machine nor { machine, version? }.`);
  const version = o.version ?? def.version;
  if (!version) throw new Error(`no version for ${def.machine.id}: pass --version or export { machine, version }.`);
  if (def.contextSchema !== undefined && !isStandardSchema(def.contextSchema))
    throw new Error('contextSchema must implement Standard Schema v1 (a zod, valibot or arktype schema).');
  // The runtime's registration check (supported features, delays), without registering or needing steps.
  o.registry.check(def.machine, { allowCustomActions: true });
  const migrations = new MigrationRegistry();
  for (const m of [...(def.migrations ?? []), ...((mod.migrations as MigrationDefinition[] | undefined) ?? [])]) migrations.register(m);
  const target: RegisteredMachine = {
    id: def.machine.id,
    version,
    ref: `${def.machine.id}@${version}`,
    machine: def.machine,
    contextSchema: def.contextSchema,
    operatorEvents: OPERATOR_EVENTS,
  };
  return { target, migrations };
}
