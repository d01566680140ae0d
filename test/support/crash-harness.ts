import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { createTestDatabase, type TestDatabase } from './database.ts';
import { startWorker, type Worker } from './worker.ts';

/** What a crash test works with: worker processes to kill, and queries on their database. */
export interface CrashHarness {
  /** The test database (set once the file's `beforeAll` ran). */
  readonly db: () => TestDatabase;
  /** Forks a runtime process on the test database (`env` adds to the harness's own). */
  spawn(env?: Record<string, string>): Promise<Worker>;
  /** Rows of a query on the test database, through the test's own pool. */
  q<T extends pg.QueryResultRow = any>(sql: string, params?: unknown[]): Promise<T[]>;
}

/**
 * The set-up every SIGKILL test repeats: a fresh database, a small pool to
 * look at it, worker processes (`worker-process.ts` unless `script` names
 * another) that are all killed and the database dropped after the file.
 * Registers the file's `beforeAll`/`afterAll`; call it inside `describe`.
 */
export function crashHarness(env: Record<string, string>, script?: string): CrashHarness {
  let db: TestDatabase | undefined;
  let client: pg.Pool | undefined;
  const workers: Worker[] = [];
  beforeAll(async () => {
    db = await createTestDatabase();
    client = new pg.Pool({ connectionString: db.url, max: 2 });
    // pool.end() resolves before its clients' sockets close: the forced drop after the file may end one first,
    // and an idle client's error with no listener would be an uncaught exception of the test run.
    client.on('error', () => undefined);
  });
  afterAll(async () => {
    for (const w of workers) await w.kill().catch(() => undefined);
    await client?.end();
    await db?.drop();
  });
  return {
    db: () => db!,
    async spawn(extra = {}) {
      const w = await startWorker({ DATABASE_URL: db!.url, ...env, ...extra }, script);
      workers.push(w);
      return w;
    },
    async q<T extends pg.QueryResultRow = any>(sql: string, params: unknown[] = []) {
      return (await client!.query<T>(sql, params)).rows;
    },
  };
}
