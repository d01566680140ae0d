import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type pg from 'pg';
import type { MikroORM } from '@mikro-orm/postgresql';
import { PgHistoryChain, parseCheckpointKeys } from '../adapters/postgres/history-chain.ts';
import { PgInstanceStore } from '../adapters/postgres/pg-instance-store.ts';
import { createSimulation } from '../runtime/testing/index.ts';
import { threeSteps } from './fixtures/machines.ts';
import { createApp } from '../api/app.ts';
import { verifyCommand } from '../api/cli-verify.ts';
import { ApiKeyAuthenticator, createApiKey } from '../api/auth/api-keys.ts';
import { MemoryApiKeyStore } from '../api/auth/memory-key-store.ts';
import { openStoreDatabase, type StoreDatabase } from './support/store-database.ts';

const steps = {
  stepA: async ({ n }: { n: number }) => ({ a: n + 1 }),
  stepB: async ({ n }: { n: number }) => ({ b: n + 2 }),
  stepC: async ({ n }: { n: number }) => ({ c: n + 3 }),
};
const keys = parseCheckpointKeys(`k1:${Buffer.alloc(32, 1).toString('base64')},k2:${Buffer.alloc(32, 2).toString('base64')}`);

let opened: StoreDatabase;
let orm: MikroORM;
let raw: pg.Client;
let chain: PgHistoryChain;

beforeAll(async () => {
  opened = await openStoreDatabase();
  ({ orm, raw } = opened);
  chain = new PgHistoryChain(orm, keys);
});
afterAll(async () => {
  await opened?.close();
});

async function simulation() {
  return createSimulation({ machines: [{ machine: threeSteps, options: { version: '1' } }], steps, store: new PgInstanceStore(orm) });
}

/** Runs one three-step workflow to completion on Postgres: history rows 1..4. */
async function finishedInstance(sim?: Awaited<ReturnType<typeof simulation>>, tenant?: string): Promise<string> {
  sim ??= await simulation();
  const { id } = await sim.runtime.start({ machine: 'three-steps', input: { n: 1 }, tenant });
  await sim.settle();
  expect((await sim.runtime.get(id, { tenant })).status).toBe('done');
  return id;
}

describe('history hash chain on Postgres', () => {
  test('every row links to the one before it, and an untouched history verifies', async () => {
    const id = await finishedInstance();
    const { rows } = await raw.query(`select seq, prev_hash, hash from sk_event where instance_id = $1 order by seq`, [id]);
    expect(rows.map((r) => r.seq)).toEqual([1, 2, 3, 4]);
    expect(rows[0].prev_hash).toBeNull();
    for (let i = 1; i < rows.length; i++) expect(rows[i].prev_hash).toEqual(rows[i - 1].hash);
    expect(await chain.verify(id)).toEqual({ instanceId: id, ok: true, events: 4, unchainedPrefix: 0, checkpoints: 0, firstBreak: null });
    expect(await chain.verify('no-such-instance')).toBeUndefined();
  });

  test('a row written without its hash (another writer) is linked by the trigger; one given its hash is kept', async () => {
    const id = await finishedInstance();
    const insert = (seq: number, hash: string | null) =>
      raw.query(
        `insert into sk_event (instance_id, seq, type, payload, source, actor, state_value, handled, created_at, hash)
         values ($1, $2, 'by-hand', '{}', 'operator', 'ops', '"done"', true, now(), $3::bytea) returning prev_hash, hash`,
        [id, seq, hash],
      );
    const digest = `sk_event_digest(prev_hash, instance_id, seq, type, payload, source, actor, state_value, handled, idempotency_key,
      created_at)`;
    const [linked] = (await insert(5, null)).rows;
    const [four] = (await raw.query(`select hash from sk_event where instance_id = $1 and seq = 4`, [id])).rows;
    expect(linked.prev_hash).toEqual(four.hash);
    const [check] = (await raw.query(`select hash = ${digest} as ok from sk_event where instance_id = $1 and seq = 5`, [id])).rows;
    expect(check.ok).toBe(true);
    // A writer giving a hash of its own is not overwritten: the verifier is what judges it.
    const [kept] = (await insert(6, '\\x00')).rows;
    expect(kept).toEqual({ prev_hash: null, hash: Buffer.from([0]) });
    await raw.query(`delete from sk_event where instance_id = $1 and seq > 4`, [id]); // the count of broken ones below
  });

  test('an edited row is reported as the first broken link', async () => {
    const id = await finishedInstance();
    await raw.query(`update sk_event set payload = '{"output":{"b":999}}' where instance_id = $1 and seq = 3`, [id]);
    expect((await chain.verify(id))?.firstBreak).toMatchObject({ seq: 3, reason: 'hash_mismatch' });
  });

  test('a deleted row, or a deleted last row, is reported', async () => {
    const middle = await finishedInstance();
    await raw.query(`delete from sk_event where instance_id = $1 and seq = 2`, [middle]);
    expect((await chain.verify(middle))?.firstBreak).toMatchObject({ seq: 2, reason: 'gap' });
    const tail = await finishedInstance();
    await raw.query(`delete from sk_event where instance_id = $1 and seq = 4`, [tail]);
    expect((await chain.verify(tail))?.firstBreak).toMatchObject({ seq: 4, reason: 'missing_tail' });
  });

  test('a rewritten chain (every hash recomputed) is caught by the signed checkpoint; a forged signature too', async () => {
    const id = await finishedInstance();
    expect(await chain.checkpoint(new Date())).toBeGreaterThanOrEqual(1);
    const {
      rows: [cp],
    } = await raw.query(`select seq, key_id from sk_history_checkpoint where instance_id = $1`, [id]);
    expect(cp).toEqual({ seq: 4, key_id: 'k2' });
    expect(await chain.verify(id)).toMatchObject({ ok: true, checkpoints: 1 });

    // Someone with write access edits row 2 and recomputes every hash after it with the public digest.
    await raw.query(`alter table sk_event disable trigger sk_event_chain`);
    await raw.query(`update sk_event set payload = '{"output":{"a":-1}}' where instance_id = $1 and seq = 2`, [id]);
    await raw.query(`do $$ declare r record; prev bytea; begin
        for r in select * from sk_event where instance_id = '${id}' order by seq loop
          update sk_event set prev_hash = prev, hash = sk_event_digest(prev, r.instance_id, r.seq, r.type, r.payload, r.source, r.actor,
            r.state_value, r.handled, r.idempotency_key, r.created_at)
            where instance_id = r.instance_id and seq = r.seq returning hash into prev;
        end loop; end $$`);
    await raw.query(`alter table sk_event enable trigger sk_event_chain`);
    expect((await chain.verify(id))?.firstBreak).toMatchObject({ seq: 4, reason: 'checkpoint_mismatch' });

    // Re-signing needs the key: a checkpoint moved to the new hash without it does not verify.
    await raw.query(
      `update sk_history_checkpoint c set hash = e.hash from sk_event e
       where e.instance_id = c.instance_id and e.seq = c.seq and c.instance_id = $1`,
      [id],
    );
    expect((await chain.verify(id))?.firstBreak).toMatchObject({ seq: 4, reason: 'bad_signature' });
  });

  test('GET /v1/instances/{id}/history?verify=true reports the first broken link, within the caller\u2019s tenant', async () => {
    const sim = await simulation();
    const keyStore = new MemoryApiKeyStore();
    const acme = (await createApiKey(keyStore, { tenant: 'acme', name: 'v', roles: 'viewer' })).key;
    const other = (await createApiKey(keyStore, { tenant: 'other', name: 'v', roles: 'viewer' })).key;
    const app = createApp({ runtime: sim.runtime, auth: new ApiKeyAuthenticator(keyStore), verifyHistory: (id) => chain.verify(id) });
    const get = async (path: string, key: string) => {
      const res = await app.request(path, { headers: { Authorization: `Bearer ${key}` } });
      return { status: res.status, body: (await res.json()) as any };
    };
    const id = await finishedInstance(sim, 'acme');
    const fine = await get(`/v1/instances/${id}/history?verify=true`, acme);
    expect(fine.status).toBe(200);
    expect(fine.body.verification).toEqual({ ok: true, events: 4, unchainedPrefix: 0, checkpoints: 0, firstBreak: null });
    expect((await get(`/v1/instances/${id}/history`, acme)).body).not.toHaveProperty('verification');
    await raw.query(`delete from sk_event where instance_id = $1 and seq = 3`, [id]);
    const broken = await get(`/v1/instances/${id}/history?verify=true`, acme);
    expect(broken.body.verification).toMatchObject({ ok: false, firstBreak: { seq: 3, reason: 'gap' } });
    expect((await get(`/v1/instances/${id}/history?verify=true`, other)).status).toBe(404);
    expect((await get(`/v1/instances/${id}/history?verify=yes`, acme)).status).toBe(400);
  });

  test('verifyAll reports each instance and counts the broken ones', async () => {
    const seen: string[] = [];
    const { instances, broken } = await chain.verifyAll((v) => seen.push(v.instanceId), 2);
    expect(instances).toBe(seen.length);
    expect(instances).toBe(7);
    expect(broken).toBe(5);
  });

  test('statekeeper verify prints the first broken link and exits 1; a sound instance exits 0', async () => {
    const good = await finishedInstance();
    const lines: string[] = [];
    const out = (line: string) => lines.push(line);
    expect(await verifyCommand(orm, { instanceId: good, json: false, out })).toBe(0);
    expect(lines.pop()).toBe(`${good}\tok: 4 rows`);
    await raw.query(`update sk_event set type = 'forged' where instance_id = $1 and seq = 2`, [good]);
    expect(await verifyCommand(orm, { instanceId: good, json: false, out })).toBe(1);
    expect(lines.pop()).toBe(`${good}\tBROKEN at row 2 (hash_mismatch): row 2 was changed after it was written`);
    expect(await verifyCommand(orm, { instanceId: 'ghost', json: true, out })).toBe(1);
    expect(await verifyCommand(orm, { json: false, out: (l) => lines.push(l) })).toBe(1);
    expect(lines.at(-1)).toMatch(/^\d+ instances verified, \d+ broken$/);
    expect(lines.filter((l) => l.startsWith(`${good}\tBROKEN`))).toHaveLength(1);
    expect(lines.some((l) => l.includes('\tok:'))).toBe(false);
  });
});
