import { describe, expect, test } from 'vitest';
import { fileURLToPath } from 'node:url';
import type { InstanceRecord } from '../runtime/index.ts';
import { Registry } from '../runtime/registry.ts';
import { checkVersionsCommand, targetFromModule } from './cli-check-versions.ts';

const fixtures = fileURLToPath(new URL('../test/fixtures/versioned-machines.ts', import.meta.url));

/** A stored instance of order-flow on `version` in `value`. */
function live(id: string, version: string, value: unknown, context: Record<string, unknown> = { amount: 1, notes: 0 }): InstanceRecord {
  const snapshot = { status: 'active', value, historyValue: {}, context, children: {} };
  return {
    id,
    machineId: 'order-flow',
    machineVersion: version,
    status: 'active',
    snapshot,
    parentId: null,
    tenant: 'default',
  } as InstanceRecord;
}

async function* rows(...records: InstanceRecord[]) {
  yield* records;
}

describe('check-versions', () => {
  test('a module export with --version; --migratable-only skips versions without a migration path', async () => {
    const { target, migrations } = await targetFromModule(fixtures, { exportName: 'orderFlowV3', version: '3', registry: new Registry() });
    expect(target.ref).toBe('order-flow@3');
    migrations.register({ machine: 'order-flow', from: '1', to: '3', stateMap: { working: 'processing' } });
    const records = [live('a', '1', 'working'), live('b', '2', 'working'), live('c', '3', 'charged')];
    const out: string[] = [];
    expect(await checkVersionsCommand(rows(...records), { target, migrations, json: true, out: (l) => out.push(l) })).toBe(1);
    const lines = out.map((l) => JSON.parse(l));
    expect(lines.slice(0, 3)).toMatchObject([
      { instanceId: 'a', ok: true, migration: { kind: 'registered', steps: ['1→3'] } },
      { instanceId: 'b', ok: false, code: 'migration_state_missing', details: { missingState: 'working' } },
      { instanceId: 'c', ok: true, migration: { kind: 'identity' } },
    ]);
    out.length = 0;
    const only = await checkVersionsCommand(rows(...records), { target, migrations, migratableOnly: true, out: (l) => out.push(l) });
    expect([only, out.at(-1)]).toEqual([
      0,
      '2 live instances of order-flow checked against order-flow@3: 2 ok, 0 incompatible ' +
        '(1: 1 ok, 0 incompatible; 3: 1 ok, 0 incompatible); 1 skipped (no migration path)',
    ]);
  });

  test('a module that names no version, or exports no machine, is refused before anything is read', async () => {
    const registry = new Registry();
    await expect(targetFromModule(fixtures, { exportName: 'orderFlowV3', registry })).rejects.toThrow('pass --version');
    await expect(targetFromModule(fixtures, { exportName: 'orderContextSchema', version: '3', registry })).rejects.toThrow(
      'neither a machine nor { machine, version? }',
    );
    await expect(targetFromModule(fixtures, { registry })).rejects.toThrow('has no export "default"');
  });
});
