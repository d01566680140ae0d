import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../test/support/database.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);

/** Runs an example as its users would (`tsx examples/x.ts`), on the test database, and returns its output. */
async function runExample(file: string, databaseUrl: string): Promise<string> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', path.join('examples', file)], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: databaseUrl },
    timeout: 120_000,
  });
  return stdout;
}

/**
 * The README's TypeScript blocks, each with the example file it shows: the
 * line before the block names it (`examples/x.ts`).
 */
function readmeBlocks(): { file: string | undefined; code: string }[] {
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  const blocks: { file: string | undefined; code: string }[] = [];
  for (const m of readme.matchAll(/(?:^|\n)([^\n]*)\n+```ts\n([\s\S]*?)\n```/g)) {
    blocks.push({ file: /`(examples\/[\w.-]+\.ts)`/.exec(m[1]!)?.[1], code: `${m[2]}\n` });
  }
  return blocks;
}

describe('examples', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  test('order.ts runs on PostgreSQL: the card is charged, then the shipment completes the order', { timeout: 150_000 }, async () => {
    expect(await runExample('order.ts', db.url)).toMatch(/^order \S+: done$/m);
  });

  test('order-simulation.ts runs: a simulated day passes and the order escalates', { timeout: 150_000 }, async () => {
    expect(await runExample('order-simulation.ts', db.url)).toContain('simulated a day: the order escalated');
  });

  test('order-schedule.ts runs: a daily schedule starts one order a day under the simulated clock', { timeout: 150_000 }, async () => {
    expect(await runExample('order-schedule.ts', db.url)).toContain('three days, three orders; next at 2030-01-04T08:00:00.000Z');
  });

  test('order-correlation.ts runs: the order is found by its payment id', { timeout: 150_000 }, async () => {
    expect(await runExample('order-correlation.ts', db.url)).toContain('correlated by payment id: the order is done');
  });

  test('order-migration.ts runs: an order migrated to version 2 keeps its deadline and goes on with version 2', {
    timeout: 150_000,
  }, async () => {
    expect(await runExample('order-migration.ts', db.url)).toContain('migrated to version 2: the deadline fired on time');
  });

  test('outbox-webhooks.ts runs: the webhook is signed, verified and delivered, the subscriber called', { timeout: 150_000 }, async () => {
    expect(await runExample('outbox-webhooks.ts', db.url)).toContain('webhook verified and delivered: payment.captured');
  });
});

describe('README', () => {
  test('every TypeScript block is an example file, verbatim, and every example is shown', () => {
    const blocks = readmeBlocks();
    expect(blocks.length).toBeGreaterThan(0);
    for (const block of blocks) {
      expect(block.file, `README block without an examples/ file named before it:\n${block.code}`).toBeDefined();
      expect(block.code, `README block for ${block.file} differs from the file`).toBe(readFileSync(path.join(root, block.file!), 'utf8'));
    }
    const examples = readdirSync(path.join(root, 'examples')).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
    expect(blocks.map((b) => b.file!.slice('examples/'.length)).sort()).toEqual(examples.sort());
  });
});
