import { afterAll } from 'vitest';
import { PgHistoryChain } from '../adapters/postgres/history-chain.ts';
import { openDatabase } from '../adapters/postgres/orm.ts';
import { PgInstanceStore } from '../adapters/postgres/pg-instance-store.ts';
import { forkSuite } from './fork-suite.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';

const opened: { db: TestDatabase; store: PgInstanceStore }[] = [];
let chain: PgHistoryChain | undefined;
afterAll(async () => {
  for (const { db, store } of opened) {
    await store.close();
    await db.drop();
  }
});

/** A store on a fresh database; the fork's copied history must verify as an unbroken chain of its own. */
async function makeStore(): Promise<PgInstanceStore> {
  const db = await createTestDatabase();
  const orm = await openDatabase({ url: db.url, poolSize: 10 });
  const store = new PgInstanceStore(orm);
  chain = new PgHistoryChain(orm);
  opened.push({ db, store });
  return store;
}

forkSuite('Postgres', makeStore, async (id) => {
  const report = await chain!.verify(id);
  return report?.ok === true && report.unchainedPrefix === 0;
});
