/**
 * Command line of the API: API key management, history verification, machine definition export.
 *
 * @example
 * ```sh
 * npx tsx api/cli.ts apikey create --tenant acme --roles operator,viewer --name ci
 * npx tsx api/cli.ts apikey list --tenant acme
 * npx tsx api/cli.ts apikey revoke --id 3f9c0a1b2c3d4e5f
 * npx tsx api/cli.ts verify <instance id> | --all
 * npx tsx api/cli.ts reencrypt
 * npx tsx api/cli.ts export greeting --format json > greeting.json
 * npx tsx api/cli.ts check-versions --module ./order-v2.ts --version 2 --database-url postgres://…
 * npx tsx api/cli.ts check-versions --machine document-review@2
 * ```
 * The database is `DATABASE_URL`, else the embedded one in
 * `STATEKEEPER_DATA_DIR` (the running server's, when it is up).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  liveInstances,
  openDatabase,
  PgDefinitionStore,
  startEmbeddedPostgres,
  type EmbeddedPostgresServer,
} from '../adapters/postgres/index.ts';
import { checkVersionsCommand, targetFromModule } from './cli-check-versions.ts';
import { MigrationRegistry } from '../runtime/migrations.ts';
import { createApiKey, type ApiKeyRecord } from './auth/api-keys.ts';
import { PgApiKeyStore } from '../adapters/postgres/pg-key-store.ts';
import { ROUTE_ROLES } from './auth/principal.ts';
import { FieldCipher, parseEncryptionKeys, reencrypt, SecretFields } from '../adapters/encryption/index.ts';
import { verifyCommand } from './cli-verify.ts';
import { loadConfig } from './config.ts';
import { BUNDLED_DEFINITIONS_DIR } from './workflows.ts';
import { createCatalog, CONFIG_FORMATS, DefinitionService, stepActors, type DefinitionStore } from '../definitions/index.ts';
import { greetingSteps } from '../actors/greeting-steps.ts';
import { greetingMachine } from '../machines/greeting.machine.ts';
import { bundledMachines } from '../machines/index.ts';
import type { AnyStateMachine } from 'xstate';
import { isMachine, Registry } from '../runtime/registry.ts';

const USAGE = `Usage:
  apikey create --tenant <tenant> --roles <role,...> --name <name> [--json]
      Creates a key and prints it once (only its hash is stored).
      Route roles: viewer (read), operator (start, events, retry, cancel), admin (all);
      other roles count for events guarded by machines' meta.roles.
  apikey list [--tenant <tenant>] [--json]
  apikey revoke --id <key id>
  verify <instance id> | --all [--json]
      Checks the history hash chain (and signed checkpoints, with STATEKEEPER_HISTORY_KEYS);
      prints the first broken link; exit code 1 when one is broken.
  reencrypt
      Seals values written under an older STATEKEEPER_ENCRYPTION_KEYS key again under the newest
      (instances, effects, outbox; history keeps its key).
  export <machine>[@version] [--format ${Object.keys(CONFIG_FORMATS).join('|')}]
      Prints a bundled or configured machine's definition (JSON: the machine config Stately Studio
      imports; implementations by name). Reads the bundled workflows and STATEKEEPER_WORKFLOWS_DIR.
  check-versions (--module <file> [--export <name>] [--version <v>] | --machine <id>@<version>)
                 [--database-url <url>] [--migratable-only] [--json]
      Checks every live snapshot of the machine (any version) against the new definition, along the
      migrations registered for it (the module's "migrations"), as POST /v1/instances/{id}/migrate would;
      writes nothing. The module exports a machine, or { machine, version?, contextSchema?, migrations? };
      --machine names a bundled, configured or stored definition. Exit code 1 when one is incompatible.`;

class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      tenant: { type: 'string' },
      roles: { type: 'string' },
      name: { type: 'string' },
      id: { type: 'string' },
      json: { type: 'boolean', default: false },
      all: { type: 'boolean', default: false },
      format: { type: 'string', default: 'json' },
      module: { type: 'string' },
      export: { type: 'string' },
      version: { type: 'string' },
      machine: { type: 'string' },
      'database-url': { type: 'string' },
      'migratable-only': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [group, command] = positionals;
  if (!values.help && group === 'reencrypt') {
    const keys = loadConfig().STATEKEEPER_ENCRYPTION_KEYS;
    if (!keys) throw new UsageError('reencrypt needs STATEKEEPER_ENCRYPTION_KEYS (old keys first, the new one last).');
    const db = await connect();
    try {
      const changed = await reencrypt(db.orm, new SecretFields(new FieldCipher(parseEncryptionKeys(keys))));
      console.error(`Re-encrypted ${changed} rows under key ${parseEncryptionKeys(keys).at(-1)!.id}.`);
      return 0;
    } finally {
      await db.close();
    }
  }
  if (!values.help && group === 'verify') {
    if ((command === undefined) === !values.all) throw new UsageError('verify needs an instance id or --all (not both).');
    const db = await connect();
    try {
      return await verifyCommand(db.orm, { instanceId: command, json: values.json, keys: loadConfig().STATEKEEPER_HISTORY_KEYS });
    } finally {
      await db.close();
    }
  }
  if (group === 'check-versions' && !values.help) {
    if (!values.module === !values.machine) throw new UsageError('check-versions needs --module <file> or --machine <id>@<version>.');
    const db = await connect(values['database-url']);
    try {
      const { target, migrations } = values.module
        ? await targetFromModule(values.module, { exportName: values.export, version: values.version, registry: new Registry() })
        : {
            target: (await exportableMachines(new PgDefinitionStore(db.orm))).resolve(values.machine!),
            migrations: new MigrationRegistry(),
          };
      return await checkVersionsCommand(liveInstances(db.orm, target.id), {
        target,
        migrations,
        migratableOnly: values['migratable-only'],
        json: values.json,
      });
    } finally {
      await db.close();
    }
  }
  if (group === 'export' && !values.help) {
    if (!command) throw new UsageError('export needs a machine id.');
    const formatter = CONFIG_FORMATS[values.format!];
    if (!formatter) throw new UsageError(`Unknown format "${values.format}".`);
    const reg = (await exportableMachines()).resolve(command);
    process.stdout.write(formatter(reg.machine, reg.version).body);
    return 0;
  }
  if (values.help || group !== 'apikey' || !command) throw new UsageError(values.help ? '' : 'Expected "apikey create|list|revoke".');
  if (!['create', 'list', 'revoke'].includes(command)) throw new UsageError(`Unknown command "apikey ${command}".`);

  const db = await connect();
  try {
    const store = new PgApiKeyStore(db.orm);
    switch (command) {
      case 'create': {
        if (!values.tenant || !values.roles || !values.name) throw new UsageError('apikey create needs --tenant, --roles and --name.');
        const { key, record } = await createApiKey(store, { tenant: values.tenant, name: values.name, roles: values.roles });
        if (values.json) {
          console.log(JSON.stringify({ key, ...show(record) }));
        } else {
          console.log(key);
          console.error(
            `Created API key ${record.id} "${record.name}" for tenant "${record.tenant}" ` +
              `with roles ${record.roles.join(', ')}. It is shown only now.`,
          );
          if (!record.roles.some((r) => (ROUTE_ROLES as readonly string[]).includes(r)))
            console.error(`Note: without ${ROUTE_ROLES.join(', ')} the key can call no route.`);
        }
        return 0;
      }
      case 'list': {
        const keys = await store.list(values.tenant);
        if (values.json) console.log(JSON.stringify(keys.map(show)));
        else
          for (const k of keys)
            console.log(
              [
                k.id,
                k.tenant,
                k.name,
                k.roles.join(','),
                k.createdAt.toISOString(),
                k.revokedAt ? `revoked ${k.revokedAt.toISOString()}` : 'active',
              ].join('\t'),
            );
        return 0;
      }
      default: {
        if (!values.id) throw new UsageError('apikey revoke needs --id.');
        const ok = await store.revoke(values.id, new Date());
        console.error(ok ? `Revoked API key ${values.id}.` : `No active API key ${values.id}.`);
        return ok ? 0 : 1;
      }
    }
  } finally {
    await db.close();
  }
}

/**
 * The machines a server registers from code and configuration, without a lab; with `stored`, also the
 * definitions registered at run time.
 */
async function exportableMachines(stored?: DefinitionStore): Promise<Registry> {
  const registry = new Registry();
  const machines = [{ machine: greetingMachine, options: { version: '1' } }, ...bundledMachines];
  const names = new Set([...Object.keys(greetingSteps), ...machines.flatMap((m) => actorNames(m.machine))]);
  // Machines here are exported or checked, never run: every step gets a stand-in (registration requires one).
  const notRun = async () => {
    throw new Error('steps do not run in the command line');
  };
  registry.registerSteps(Object.fromEntries([...names].map((n) => [n, notRun])));
  for (const m of machines) registry.register(m.machine, m.options);
  const definitions = new DefinitionService(
    { registry, register: (m, o) => registry.register(m, o) },
    createCatalog(stepActors(names)),
    stored,
  );
  await definitions.loadFolder(BUNDLED_DEFINITIONS_DIR);
  const dir = loadConfig().STATEKEEPER_WORKFLOWS_DIR;
  if (dir) await definitions.loadFolder(dir);
  if (stored) await definitions.restore();
  return registry;
}

/** Actor names a machine and the machines it invokes declare in `setup({ actors })`. */
function actorNames(machine: AnyStateMachine, seen = new Set<AnyStateMachine>()): string[] {
  if (seen.has(machine)) return [];
  seen.add(machine);
  return Object.entries(machine.implementations.actors ?? {}).flatMap(([name, logic]) => [
    name,
    ...(isMachine(logic) ? actorNames(logic, seen) : []),
  ]);
}

function show(k: ApiKeyRecord) {
  return {
    id: k.id,
    tenant: k.tenant,
    name: k.name,
    roles: k.roles,
    createdAt: k.createdAt.toISOString(),
    revokedAt: k.revokedAt?.toISOString() ?? null,
  };
}

/**
 * Opens the configured database. On the embedded default, a server already
 * running on the data folder is joined (never restarted: that would cut off
 * the running API); otherwise one is started for the command.
 */
async function connect(databaseUrl?: string) {
  const config = loadConfig();
  let embedded: EmbeddedPostgresServer | undefined;
  let url = databaseUrl ?? config.DATABASE_URL;
  if (!url) {
    const dataDir = path.join(config.dataDir, 'pg');
    url = runningEmbeddedUrl(dataDir);
    if (!url) {
      embedded = await startEmbeddedPostgres({ dataDir });
      url = embedded.url;
    }
  }
  const orm = await openDatabase({ url, poolSize: 2 });
  return {
    orm,
    async close() {
      await orm.close();
      await embedded?.stop();
    },
  };
}

/** URL of the embedded server running on `dataDir`, read from its `postmaster.pid` (line 4 is the port). */
function runningEmbeddedUrl(dataDir: string): string | undefined {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return undefined;
  const lines = readFileSync(pidFile, 'utf8').split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  try {
    process.kill(pid, 0);
  } catch {
    return undefined;
  }
  // The credentials `startEmbeddedPostgres` gives the embedded cluster.
  return Number.isInteger(port) && port > 0 ? `postgres://statekeeper:statekeeper@127.0.0.1:${port}/postgres` : undefined;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof UsageError || (e as { code?: string })?.code?.startsWith?.('ERR_PARSE_ARGS')) {
      if (e instanceof Error && e.message) console.error(e.message);
      console.error(USAGE);
      process.exit(2);
    }
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  },
);
