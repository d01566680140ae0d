import { Client } from 'pg';
import { afterAll, expect, test } from 'vitest';
import { openDatabase } from '../adapters/postgres/orm.ts';
import { PgInstanceStore } from '../adapters/postgres/pg-instance-store.ts';
import { Runtime } from '../runtime/index.ts';
import { deadline } from './fixtures/machines.ts';
import { pauseSuite } from './pause-suite.ts';
import { createTestDatabase } from './support/database.ts';
import { pgStoreFactory } from './support/pg-store.ts';

pauseSuite('Postgres', pgStoreFactory());

const db = await createTestDatabase();
afterAll(() => db.drop());

/** A runtime on its own pool, as a separate process would have; due work is claimed once, at its start-up recovery. */
async function openRuntime() {
  const store = new PgInstanceStore(await openDatabase({ url: db.url }));
  const runtime = new Runtime({ store, pollIntervalMs: 0 });
  runtime.register(deadline, { version: '1' });
  await runtime.resume();
  return { runtime, store, close: async () => (await runtime.close(), await store.close()) };
}

test('a pause survives a restart: a new runtime on the same database neither takes events nor fires the timer until resumed', async () => {
  const first = await openRuntime();
  const { id } = await first.runtime.start({ machine: 'deadline' });
  const witness = await first.runtime.start({ machine: 'deadline' });
  await first.runtime.pauseInstance(id, { reason: 'maintenance', caller: { id: 'ops:ana' } });
  await first.close();

  // Both timers fall due while no runtime runs (moved into the past rather than waited for), their leases lapsed.
  const pg = new Client({ connectionString: db.url });
  await pg.connect();
  await pg.query(`update sk_effect set due_at = now() - interval '1 minute', lease_until = null where kind = 'timer'`);
  await pg.end();

  const second = await openRuntime();
  // The witness's timer fires: the start-up poll round ran, and it left the paused instance's timer alone.
  await second.runtime.waitFor(witness.id, (v) => v.status === 'done');
  expect((await second.runtime.get(id)).paused).toBe(true);
  expect(await second.runtime.send(id, { type: 'poke' }).catch((e) => e.code)).toBe('instance_paused');
  expect((await second.runtime.get(id)).value).toBe('waiting');
  expect((await second.runtime.effects(id)).map((e) => [e.status, e.leaseOwner])).toEqual([['pending', null]]);
  await second.runtime.resumeInstance(id, { caller: { id: 'ops:ana' } });
  const done = await second.runtime.waitFor(id, (v) => v.status === 'done');
  expect(done.value).toBe('expired');
  const h = await second.runtime.history(id);
  expect(h.map((e) => [e.type, e.actor])).toEqual([
    ['xstate.init', null],
    ['statekeeper.pause', 'ops:ana'],
    ['statekeeper.resume', 'ops:ana'],
    ['xstate.after.5000.deadline.waiting', null],
  ]);
  await second.close();
});
