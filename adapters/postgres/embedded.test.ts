/**
 * The embedded server's own settings (not those of a server in DATABASE_URL): it runs a server of its own, so it
 * is not part of the Postgres-server suite.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { expect, test } from 'vitest';
import { startEmbeddedPostgres } from './embedded.ts';

test('the embedded server runs autovacuum every 10 s, and only on loopback', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'statekeeper-embedded-'));
  await chmod(dir, 0o755); // the server runs as the postgres user under root
  const server = await startEmbeddedPostgres({ dataDir: path.join(dir, 'data') });
  const db = new pg.Client({ connectionString: server.url });
  try {
    await db.connect();
    const { rows } = await db.query(
      `select name, setting from pg_settings where name in ('autovacuum', 'autovacuum_naptime', 'listen_addresses') order by name`,
    );
    expect(rows).toEqual([
      { name: 'autovacuum', setting: 'on' },
      { name: 'autovacuum_naptime', setting: '10' },
      { name: 'listen_addresses', setting: '127.0.0.1' },
    ]);
  } finally {
    await db.end().catch(() => undefined);
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}, 180_000);
