import { Client } from 'pg';
import { afterAll, expect, test } from 'vitest';
import { openDatabase } from '../adapters/postgres/orm.ts';
import { PgInstanceStore } from '../adapters/postgres/pg-instance-store.ts';
import { createSimulation } from '../runtime/testing/index.ts';
import { assign, setup } from 'xstate';
import { correlationSuite } from './correlation-suite.ts';
import { createTestDatabase } from './support/database.ts';
import { pgStoreFactory } from './support/pg-store.ts';

correlationSuite('Postgres', pgStoreFactory());

const db = await createTestDatabase();
afterAll(() => db.drop());

const ticket = setup({
  types: { context: {} as { ref: string }, events: {} as { type: 'rename'; ref: string } | { type: 'close' } },
}).createMachine({
  id: 'ticket',
  context: ({ input }) => ({ ref: (input as { ref: string }).ref }),
  initial: 'open',
  states: {
    open: { on: { rename: { actions: assign({ ref: ({ event }) => event.ref }) }, close: 'closed' } },
    closed: { type: 'final' },
  },
});

test('the index rows are written by the commits that change the values, and gone when the instance ends', async () => {
  const store = new PgInstanceStore(await openDatabase({ url: db.url }));
  const sim = await createSimulation({ store, machines: [{ machine: ticket, options: { version: '1', correlation: { ref: 'ref' } } }] });
  const pg = new Client({ connectionString: db.url });
  await pg.connect();
  const rows = async () =>
    (await pg.query(`select instance_id, key, tenant, machine_id, value from sk_correlation order by instance_id, key`)).rows;
  const { id } = await sim.runtime.start({ machine: 'ticket', tenant: 'acme', input: { ref: 'T-1' } });
  const stored = await sim.runtime.storedIdOf(id, { tenant: 'acme' });
  expect(await rows()).toEqual([{ instance_id: stored, key: 'ref', tenant: 'acme', machine_id: 'ticket', value: 'T-1' }]);
  const at = async () => (await pg.query(`select updated_at from sk_correlation`)).rows[0]?.updated_at;
  const first = await at();
  await sim.runtime.send(id, { type: 'rename', ref: 'T-1' }, { tenant: 'acme' });
  // The same value: the commit left the row alone.
  expect(await at()).toEqual(first);
  await sim.runtime.send(id, { type: 'rename', ref: 'T-2' }, { tenant: 'acme' });
  expect((await rows()).map((r) => r.value)).toEqual(['T-2']);
  await sim.runtime.send(id, { type: 'close' }, { tenant: 'acme' });
  expect(await rows()).toEqual([]);
  await pg.end();
  await sim.runtime.close();
  await store.close();
});
