/**
 * The processes of a chaos run: an embedded PostgreSQL with two databases
 * (the runtime's and the lab's), the lab as its own process (`lab/main.ts`),
 * and the server (`api/main.ts`), which the run kills and restarts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres, type EmbeddedPostgresServer } from '../../adapters/postgres/embedded.ts';
import { freePort } from '../../adapters/postgres/postmaster.ts';
import { REPO_ROOT, startServerProcess, type ServerProcess } from '../support/server-process.ts';

export class Cluster {
  /** `[from, to]` of every time the server was meant to be away. */
  readonly downWindows: [number, number][] = [];
  /** Exits of the server or the lab that the run did not cause. */
  readonly crashes: string[] = [];
  apiKey = '';
  private server: ServerProcess | undefined;
  private lab: ChildProcess | undefined;
  private stopping = false;
  private killing = false;

  private constructor(
    private pgServer: EmbeddedPostgresServer,
    readonly dir: string,
    readonly base: string,
    readonly labUrl: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly labEnv: NodeJS.ProcessEnv,
  ) {}

  /** Starts PostgreSQL, creates the two databases, starts the lab and the server. */
  static async start(log: (line: string) => void): Promise<Cluster> {
    const dir = await mkdtemp(path.join(tmpdir(), 'statekeeper-chaos-'));
    const pgServer = await startEmbeddedPostgres({ dataDir: path.join(dir, 'pg') });
    const admin = new pg.Client({ connectionString: pgServer.url });
    await admin.connect();
    for (const name of ['chaos_runtime', 'chaos_lab']) await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const dbUrl = (name: string) => Object.assign(new URL(pgServer.url), { pathname: `/${name}` }).toString();
    const [port, labPort] = [await freePort(), await freePort()];
    const labUrl = `http://127.0.0.1:${labPort}`;
    const labEnv = { ...process.env, LAB_DATABASE_URL: dbUrl('chaos_lab'), LAB_PORT: String(labPort) };
    const env = {
      ...process.env,
      DATABASE_URL: dbUrl('chaos_runtime'),
      PORT: String(port),
      LAB_URL: labUrl,
      STATEKEEPER_DATA_DIR: path.join(dir, 'server'),
      STATEKEEPER_WORKER_ID: 'chaos-server',
      STATEKEEPER_POLL_MS: '200',
      STATEKEEPER_DEV_KEY: 'on',
      LOG_LEVEL: 'warn',
      LOG_FORMAT: 'json',
    };
    const cluster = new Cluster(pgServer, dir, `http://127.0.0.1:${port}`, labUrl, env, labEnv);
    log(`chaos: PostgreSQL on port ${pgServer.port}, data in ${dir}`);
    try {
      await cluster.startLab();
      await cluster.startServer();
    } catch (error) {
      await cluster.stop(false);
      throw error;
    }
    log(`chaos: lab on ${labUrl}, server on ${cluster.base}`);
    return cluster;
  }

  /** The runtime's database, for the final observation. */
  get runtimeDatabaseUrl(): string {
    return this.env.DATABASE_URL!;
  }

  /** Kills the server with SIGKILL and starts it again; the time between counts as down. */
  async killAndRestartServer(): Promise<void> {
    const from = Date.now();
    this.killing = true;
    const server = this.server!;
    server.child.kill('SIGKILL');
    await server.exited;
    this.killing = false;
    await this.startServer();
    this.downWindows.push([from, Date.now()]);
  }

  /** Stops PostgreSQL (fast shutdown), waits, starts it on the same data and port, waits for the server to be ready. */
  async restartDatabase(pauseMs: number): Promise<void> {
    const from = Date.now();
    await this.pgServer.stop();
    await new Promise((r) => setTimeout(r, pauseMs));
    this.pgServer = await startEmbeddedPostgres({ dataDir: this.pgServer.dataDir, port: this.pgServer.port });
    for (let i = 0; i < 600; i++) {
      if (
        await fetch(`${this.base}/readyz`).then(
          (r) => r.ok,
          () => false,
        )
      )
        break;
      await new Promise((r) => setTimeout(r, 100));
    }
    this.downWindows.push([from, Date.now()]);
  }

  /** Stops everything; the data folder goes unless `keep`. */
  async stop(keep: boolean): Promise<void> {
    this.stopping = true;
    this.server?.child.kill('SIGKILL');
    await this.server?.exited;
    this.lab?.kill('SIGTERM');
    await this.pgServer.stop().catch(() => {});
    if (!keep) await rm(this.dir, { recursive: true, force: true });
  }

  private async startServer(): Promise<void> {
    const server = await startServerProcess(this.env, this.base, 1200);
    // The development key (STATEKEEPER_DEV_KEY=on) is kept in the data folder; the log is at warn level.
    this.apiKey ||= (await readFile(path.join(this.env.STATEKEEPER_DATA_DIR!, 'dev-api-key'), 'utf8').catch(() => '')).trim();
    if (!this.apiKey) throw new Error(`the server wrote no development API key:\n${server.output()}`);
    this.server = server;
    void server.exited.then((code) => {
      if (this.stopping || this.killing || this.server !== server) return;
      this.crashes.push(`server exited by itself (code ${code}) at ${new Date().toISOString()}: ${server.output().slice(-2000)}`);
      const from = Date.now();
      void this.startServer().then(() => this.downWindows.push([from, Date.now()]));
    });
  }

  private async startLab(): Promise<void> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'lab/main.ts'], {
      cwd: REPO_ROOT,
      env: this.labEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    await new Promise<void>((resolve, reject) => {
      const onData = () => /listening on/.test(out) && resolve();
      child.stdout!.on('data', onData);
      child.once('exit', (code) => reject(new Error(`the lab exited (${code}):\n${out}`)));
    });
    this.lab = child;
    child.once('exit', (code) => {
      if (this.stopping) return;
      this.crashes.push(`lab exited by itself (code ${code}): ${out.slice(-2000)}`);
      void this.startLab();
    });
  }
}
