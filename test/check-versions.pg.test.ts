import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { openDatabase } from '../adapters/postgres/orm.ts';
import { PgInstanceStore } from '../adapters/postgres/pg-instance-store.ts';
import type { StepContext } from '../runtime/step-types.ts';
import { createSimulation } from '../runtime/testing/index.ts';
import { orderFlowV1 } from './fixtures/versioned-machines.ts';
import { createTestDatabase } from './support/database.ts';
import { eventually } from './support/poll.ts';
import { REPO_ROOT } from './support/server-process.ts';

const fixtures = pathToFileURL(path.join(REPO_ROOT, 'test/fixtures/versioned-machines.ts')).href;
const dir = mkdtempSync(path.join(tmpdir(), 'sk-check-versions-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A definition module as a user would write one. */
function moduleFile(name: string, body: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, `import { orderFlowV3, orderContextSchema } from '${fixtures}';\n${body}\n`);
  return file;
}

/** Runs the CLI as a child process; resolves with its exit code and output. */
function cli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'api/cli.ts', 'check-versions', ...args],
      { cwd: REPO_ROOT, env },
      (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('statekeeper check-versions', () => {
  test('flags the live snapshot a new definition cannot hold, and passes once a migration maps it', { timeout: 120_000 }, async () => {
    const db = await createTestDatabase();
    const store = new PgInstanceStore(await openDatabase({ url: db.url, poolSize: 4 }));
    const charges = new Map<string, (v: unknown) => void>();
    const hold = (name: string) => (_i: unknown, ctx: StepContext) =>
      new Promise((resolve) => (name === 'charge' ? charges.set(ctx.instanceId, resolve) : undefined));
    const sim = await createSimulation({
      store,
      machines: [{ machine: orderFlowV1, options: { version: '1' } }],
      steps: { charge: hold('charge'), notify: hold('notify'), audit: hold('audit') },
    });
    try {
      // A waits in "working" (renamed in v3); B has moved on to "charged" (kept in v3); C is finished (not live).
      const a = await sim.runtime.start({ machine: 'order-flow', input: { amount: 1 } });
      const b = await sim.runtime.start({ machine: 'order-flow', input: { amount: 2 } });
      const c = await sim.runtime.start({ machine: 'order-flow', input: { amount: 3 } });
      for (const id of [b.id, c.id]) {
        await eventually(async () => charges.get(id), `the charge of ${id}`);
        charges.get(id)!({ paymentId: `p-${id}` });
        await sim.runtime.waitFor(id, (v) => v.value === 'charged', 30_000);
      }
      await sim.runtime.send(c.id, { type: 'order.ship' });
      // The database is named on the command line only.
      const { DATABASE_URL: _unused, ...inherited } = process.env;
      const env = { ...inherited, STATEKEEPER_DATA_DIR: dir };

      const plain = moduleFile('order-v3.ts', 'export default orderFlowV3;');
      const refused = await cli(['--module', plain, '--version', '3', '--database-url', db.url], env);
      expect(refused.code, refused.stderr).toBe(1);
      const lines = refused.stdout.trim().split('\n');
      expect(lines.find((l) => l.includes(a.id))).toMatch(/^incompatible\t.*\t1 → 3\tmigration_state_missing: .*state "working"/);
      expect(lines.find((l) => l.includes(b.id))).toMatch(/^ok\t.*\t1 → 3\tas it is$/);
      expect(lines.some((l) => l.includes(c.id))).toBe(false);
      expect(lines.at(-1)).toBe(
        '2 live instances of order-flow checked against order-flow@3: 1 ok, 1 incompatible (1: 1 ok, 1 incompatible)',
      );

      // With a state map for the rename and the context its schema requires, every live snapshot fits.
      const mapped = moduleFile(
        'order-v3-mapped.ts',
        `export default { machine: orderFlowV3, version: '3', contextSchema: orderContextSchema };
export const migrations = [{ machine: 'order-flow', from: '1', to: '3', stateMap: { working: 'processing' },
  context: (c) => ({ ...c, currency: 'EUR' }) }];`,
      );
      const passed = await cli(['--module', mapped, '--json', '--database-url', db.url], env);
      expect(passed.code, passed.stderr).toBe(0);
      const json = passed.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(json.at(-1)).toEqual({
        summary: { machine: 'order-flow@3', checked: 2, ok: 2, incompatible: 0, skipped: 0, byVersion: { 1: { ok: 2, incompatible: 0 } } },
      });
      expect(json.find((l) => l.instanceId === a.id)).toMatchObject({ ok: true, migration: { kind: 'registered', steps: ['1→3'] } });

      // The schema alone (no migration) refuses both: neither context has a currency.
      const schemaOnly = moduleFile('order-v3-schema.ts', `export const v3 = { machine: orderFlowV3, contextSchema: orderContextSchema };`);
      const bySchema = await cli(['--module', schemaOnly, '--export', 'v3', '--version', '3', '--database-url', db.url], env);
      expect(bySchema.code).toBe(1);
      expect(bySchema.stdout).toMatch(new RegExp(`incompatible\\t${b.id}\\t1 → 3\\tmigration_context_invalid`));
      // Nothing was written: the instances are as they were.
      expect((await sim.runtime.get(a.id)).machine.version).toBe('1');
      // A bundled definition by id@version (no live instance of it here).
      const bundled = await cli(['--machine', 'greeting@1', '--database-url', db.url], env);
      expect([bundled.code, bundled.stdout.trim()], bundled.stderr).toEqual([
        0,
        '0 live instances of greeting checked against greeting@1: 0 ok, 0 incompatible',
      ]);
      const usage = await cli(['--database-url', db.url], env);
      expect(usage.code).toBe(2);
    } finally {
      await sim.runtime.close();
      await store.close();
      await db.drop();
    }
  });
});
