import { afterAll, beforeAll, expect, test } from 'vitest';
import pg from 'pg';
import type { MikroORM } from '@mikro-orm/postgresql';
import { openDatabase } from '../adapters/postgres/orm.ts';
import { FeatureStatements } from '../adapters/postgres/batch-statement.ts';
import { COMMIT_FEATURES, commitText, type CommitFeature } from '../adapters/postgres/commit-sql.ts';
import { CREATE_FEATURES, createText, type CreateFeature } from '../adapters/postgres/create-sql.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';

// The commit and create statements are written per set of features a batch uses (batch-statement.ts): every
// set a batch can produce must be a statement PostgreSQL accepts, not only the sets the other tests happen to use.
let db: TestDatabase;
let orm: MikroORM;
let client: pg.Client;

beforeAll(async () => {
  db = await createTestDatabase();
  orm = await openDatabase({ url: db.url, poolSize: 1 });
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
}, 60_000);
afterAll(async () => {
  await client?.end();
  await orm?.close();
  await db?.drop();
});

function* subsets<F>(all: readonly F[]): Generator<Set<F>> {
  for (let mask = 0; mask < 1 << all.length; mask++) yield new Set(all.filter((_, bit) => mask & (1 << bit)));
}

/** Parses and analyses the text against the schema (PREPARE), the way the driver's first use of the name does. */
async function accepts(sql: string, params: string): Promise<void> {
  await client.query(`prepare probe(${params}) as ${sql}`);
  await client.query('deallocate probe');
}

test('every commit statement a batch can use is valid against the schema', async () => {
  const names = new Set<string>();
  // Uncapped: every set gets its own text here.
  const texts = new FeatureStatements('sk_commit_probe', COMMIT_FEATURES, commitText, Number.POSITIVE_INFINITY);
  for (const used of subsets<CommitFeature>(COMMIT_FEATURES)) {
    if (used.has('closeTimer') && !used.has('close')) continue; // a timer's close is a close
    const { name, sql } = texts.text(used);
    await accepts(sql, 'jsonb, text');
    names.add(name);
  }
  expect(names.size).toBe(3 * 2 ** (COMMIT_FEATURES.length - 2));
}, 120_000);

test('every create statement a batch can use is valid against the schema', async () => {
  const names = new Set<string>();
  const texts = new FeatureStatements('sk_create_probe', CREATE_FEATURES, createText, Number.POSITIVE_INFINITY);
  for (const used of subsets<CreateFeature>(CREATE_FEATURES)) {
    const { name, sql } = texts.text(used);
    // Only the outbox's notification names the origin: without it the statement has one parameter.
    await accepts(sql, used.has('outbox') ? 'jsonb, text' : 'jsonb');
    names.add(name);
  }
  expect(names.size).toBe(2 ** CREATE_FEATURES.length);
}, 60_000);
