import type { MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FieldCipher, parseEncryptionKeys, reencrypt, SealedStore, SecretFields, secretPolicyOf } from '../adapters/encryption/index.ts';
import { openDatabase } from '../adapters/postgres/orm.ts';
import { PgInstanceStore } from '../adapters/postgres/pg-instance-store.ts';
import { createSimulation } from '../runtime/testing/index.ts';
import { quick } from './schedule-suite.ts';
import { runtimeRoleGrants } from '../adapters/postgres/runtime-grants.ts';
import { createLab } from '../lab/index.ts';
import { bundledMachines } from '../machines/index.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { fullProvisioningInput, runUntilResting, seedSimulation } from './support/seed-harness.ts';

const PASSWORD = fullProvisioningInput().radius.password;
const key = (n: number) => Buffer.alloc(32, n).toString('base64');
const policies = new Map(bundledMachines.map((b) => [b.machine.id, secretPolicyOf(b.machine)]));

let db: TestDatabase;
let owner: pg.Client;
let ormAsRuntime: MikroORM;
let roleUrl: string;

beforeAll(async () => {
  db = await createTestDatabase();
  // Migrations as the owner, then a role that owns nothing and has only the run-time grants.
  await (await openDatabase({ url: db.url, poolSize: 2 })).close();
  owner = new pg.Client({ connectionString: db.url });
  await owner.connect();
  const role = `sk_rt_${Math.random().toString(36).slice(2, 10)}`;
  await owner.query(`create role ${role} login password 'runtime-pw' nosuperuser nocreatedb nocreaterole`);
  for (const sql of runtimeRoleGrants(role)) await owner.query(sql);
  const u = new URL(db.url);
  u.username = role;
  u.password = 'runtime-pw';
  roleUrl = u.toString();
  ormAsRuntime = await openDatabase({ url: roleUrl, poolSize: 4, migrate: false });
});
afterAll(async () => {
  await ormAsRuntime.close();
  await owner.end();
  await db.drop();
});

function sealedStore(keys: string) {
  const fields = new SecretFields(new FieldCipher(parseEncryptionKeys(keys)));
  return new SealedStore(new PgInstanceStore(ormAsRuntime), fields, (id) => policies.get(id));
}

/** Rows of every runtime table whose text contains `needle`. */
async function rowsContaining(needle: string): Promise<string[]> {
  const found: string[] = [];
  for (const table of ['sk_instance', 'sk_event', 'sk_effect', 'sk_outbox']) {
    const { rows } = await owner.query(`select t::text as row from ${table} t where strpos(t::text, $1) > 0`, [needle]);
    found.push(...rows.map((r) => `${table}: ${String(r.row).slice(0, 120)}`));
  }
  return found;
}

describe('secrets at rest, with the runtime as a limited role', () => {
  test('a provisioning that completes and one that rolls back leave no RADIUS password in any table; the process reads it', async () => {
    const lab = createLab();
    const sim = await seedSimulation(lab, { store: sealedStore(`k1:${key(1)}`) });
    const ok = await sim.runtime.start({ machine: 'subscriber-provisioning', input: fullProvisioningInput('ada') });
    expect((await runUntilResting(sim, ok.id)).status).toBe('done');
    lab.faults.inject({ system: 'billing', operation: 'addService', mode: 'fail', retryable: false });
    const rolled = await sim.runtime.start({ machine: 'subscriber-provisioning', input: fullProvisioningInput('bob') });
    expect((await runUntilResting(sim, rolled.id)).output).toMatchObject({ outcome: 'rolled_back' });

    expect(await rowsContaining(PASSWORD)).toEqual([]);
    expect((await rowsContaining('sk1.k1.')).length).toBeGreaterThan(0);
    // Decrypted only in the process: the runtime sees the input, the step got the password.
    expect(((await sim.runtime.get(ok.id)).context as { input: { radius: { password: string } } }).input.radius.password).toBe(PASSWORD);
    expect((await sim.runtime.effects(ok.id)).find((e) => e.name === 'radiusAccount')?.input).toMatchObject({ password: PASSWORD });
    expect(sim.errors).toEqual([]);
  });

  test('after a key rotation new writes use the newest key and values sealed with the old one still decrypt', async () => {
    const lab = createLab();
    const before = await seedSimulation(lab, { store: sealedStore(`k1:${key(1)}`) });
    const old = await before.runtime.start({ machine: 'subscriber-provisioning', input: fullProvisioningInput('cy') });
    await runUntilResting(before, old.id);
    const after = await seedSimulation(lab, { store: sealedStore(`k1:${key(1)},k2:${key(2)}`) });
    const fresh = await after.runtime.start({ machine: 'subscriber-provisioning', input: fullProvisioningInput('di') });
    await runUntilResting(after, fresh.id);
    const snap = async (id: string) =>
      (await owner.query(`select snapshot::text as s from sk_instance where id = $1`, [id])).rows[0].s as string;
    expect(await snap(fresh.id)).toContain('"sk1.k2.');
    expect(await snap(fresh.id)).not.toContain('"sk1.k1.');
    expect(((await after.runtime.get(old.id)).context as { input: { radius: { password: string } } }).input.radius.password).toBe(PASSWORD);
    // Without the old key, its values are refused rather than misread.
    await expect(sealedStore(`k2:${key(2)}`).get(old.id)).rejects.toThrow(/key "k1", which is not configured/);
    // Re-encryption moves instances, effects and outbox to the newest key; then k2 alone reads the instance.
    const fields = new SecretFields(new FieldCipher(parseEncryptionKeys(`k1:${key(1)},k2:${key(2)}`)));
    expect(await reencrypt(ormAsRuntime, fields)).toBeGreaterThan(0);
    expect(await snap(old.id)).not.toContain('"sk1.k1.');
    expect(await reencrypt(ormAsRuntime, fields)).toBe(0);
    const k2only = await sealedStore(`k2:${key(2)}`).get(old.id);
    expect(k2only?.snapshot).toMatchObject({ context: { input: { radius: { password: PASSWORD } } } });
  });

  test('the runtime role cannot rewrite history, disable the chain or change the schema', async () => {
    const asRuntime = new pg.Client({ connectionString: roleUrl });
    await asRuntime.connect();
    try {
      await expect(asRuntime.query(`update sk_event set type = 'x'`)).rejects.toThrow(/permission denied/);
      await expect(asRuntime.query(`delete from sk_event`)).rejects.toThrow(/permission denied/);
      await expect(asRuntime.query(`alter table sk_event disable trigger sk_event_chain`)).rejects.toThrow(/must be owner/);
      await expect(asRuntime.query(`drop table sk_outbox`)).rejects.toThrow(/must be owner/);
      const { rows } = await asRuntime.query(`select rolsuper from pg_roles where rolname = current_user`);
      expect(rows[0].rolsuper).toBe(false);
    } finally {
      await asRuntime.end();
    }
  });

  test('the runtime role keeps schedules and runs retention (through sk_retention_purge) yet still cannot delete history', async () => {
    const sim = await createSimulation({
      store: new PgInstanceStore(ormAsRuntime),
      machines: [{ machine: quick, options: { version: '1', retention: { days: 1, mode: 'archive' } } }],
      schedules: [{ id: 'rt-hourly', machine: 'quick', cron: '0 * * * *', overlap: 'allow' }],
    });
    await sim.advance(3_600_000);
    const [row] = (await owner.query(`select id from sk_instance where idempotency_key like 'schedule:rt-hourly:%'`)).rows;
    expect(row).toBeDefined();
    sim.runtime.schedules.stop();
    await sim.advance(2 * 86_400_000);
    expect((await sim.runtime.retention.run()).totals.instances).toBe(1);
    expect((await owner.query(`select count(*)::int as n from sk_instance where id = $1`, [row.id])).rows[0].n).toBe(0);
    expect((await owner.query(`select count(*)::int as n from sk_archive_instance where id = $1`, [row.id])).rows[0].n).toBe(1);
    const asRuntime = new pg.Client({ connectionString: roleUrl });
    await asRuntime.connect();
    try {
      await expect(asRuntime.query(`delete from sk_event`)).rejects.toThrow(/permission denied/);
      await expect(asRuntime.query(`select * from sk_archive_record`)).rejects.toThrow(/permission denied/);
    } finally {
      await asRuntime.end();
    }
    await sim.runtime.close();
  });

  test('control: without field encryption the same run does leave the password in plain text', async () => {
    const lab = createLab();
    const sim = await seedSimulation(lab, { store: new PgInstanceStore(ormAsRuntime) });
    const { id } = await sim.runtime.start({ machine: 'subscriber-provisioning', input: fullProvisioningInput('eve') });
    await runUntilResting(sim, id);
    expect((await rowsContaining(PASSWORD)).length).toBeGreaterThan(0);
  });
});
