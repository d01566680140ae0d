import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../../adapters/postgres/embedded.ts';

/**
 * Gives every test file a Postgres server: the one in `DATABASE_URL` when set
 * (CI's Debian server), else an embedded server started for this run.
 */
export default async function setup(project: TestProject) {
  if (process.env.DATABASE_URL) {
    project.provide('databaseUrl', process.env.DATABASE_URL);
    return;
  }
  const dir = await mkdtemp(path.join(tmpdir(), 'statekeeper-test-pg-'));
  await chmod(dir, 0o755); // the server runs as the postgres user under root
  const server = await startEmbeddedPostgres({ dataDir: path.join(dir, 'data') });
  project.provide('databaseUrl', server.url);
  return async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
  }
}
