import { expect, onTestFinished, test } from 'vitest';
import { Runtime } from '../runtime/index.ts';
import { counter } from './fixtures/machines.ts';
import { pgStoreFactory } from './support/pg-store.ts';
import { openDatabase } from '../adapters/postgres/orm.ts';
import { PgInstanceStore } from '../adapters/postgres/pg-instance-store.ts';
import { createTestDatabase } from './support/database.ts';

const newStore = pgStoreFactory();

test('many concurrent callers on one runtime: every event applied once, in arrival order', async () => {
  const runtime = new Runtime({ store: await newStore(), pollIntervalMs: 0 });
  runtime.register(counter, { version: '1' });
  const { id } = await runtime.start({ machine: 'counter' });
  const items = Array.from({ length: 200 }, (_, i) => `e${i}`);
  const results = await Promise.all(items.map((item) => runtime.send(id, { type: 'add', item })));
  expect(results.every((r) => r.handled)).toBe(true);
  const v = await runtime.get(id);
  expect((v.context as { items: string[] }).items).toEqual(items);
  const h = await runtime.history(id, { limit: 500 });
  expect(h.map((e) => e.seq)).toEqual(Array.from({ length: 201 }, (_, i) => i + 1));
  await runtime.close();
});

const twoRuntimes =
  'two runtimes on one database sending to one instance: version conflicts are retried, nothing lost, each caller order kept';
test(twoRuntimes, async () => {
  const db = await createTestDatabase();
  const [ormA, ormB] = await Promise.all([openDatabase({ url: db.url }), openDatabase({ url: db.url })]);
  // Registered per test run (an afterAll registered inside a test never runs): the database is always dropped.
  onTestFinished(async () => {
    await ormA.close();
    await ormB.close();
    await db.drop();
  });
  const a = new Runtime({ store: new PgInstanceStore(ormA), workerId: 'a', pollIntervalMs: 0 });
  const b = new Runtime({ store: new PgInstanceStore(ormB), workerId: 'b', pollIntervalMs: 0 });
  a.register(counter, { version: '1' });
  b.register(counter, { version: '1' });
  const { id } = await a.start({ machine: 'counter' });
  const fromA = Array.from({ length: 60 }, (_, i) => `a${i}`);
  const fromB = Array.from({ length: 60 }, (_, i) => `b${i}`);
  await Promise.all([...fromA.map((item) => a.send(id, { type: 'add', item })), ...fromB.map((item) => b.send(id, { type: 'add', item }))]);
  const items = ((await a.get(id)).context as { items: string[] }).items;
  expect(items).toHaveLength(120);
  expect(items.filter((x) => x.startsWith('a'))).toEqual(fromA);
  expect(items.filter((x) => x.startsWith('b'))).toEqual(fromB);
  const h = await a.history(id, { limit: 500 });
  expect(h.map((e) => e.seq)).toEqual(Array.from({ length: 121 }, (_, i) => i + 1));
  await a.close();
  await b.close();
});
