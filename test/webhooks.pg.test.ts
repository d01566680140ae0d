import { createHmac } from 'node:crypto';
import { Client } from 'pg';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { setup } from 'xstate';
import { openDatabase } from '../adapters/postgres/orm.ts';
import { PgInstanceStore } from '../adapters/postgres/pg-instance-store.ts';
import { PgWebhookDeliveryStore } from '../adapters/postgres/pg-webhook-deliveries.ts';
import { parseWebhookSources } from '../api/webhooks/webhook-config.ts';
import { createTestApi } from './support/api-test-support.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';

const SECRET = 'gh-secret-0123456789abcdef';
const ticket = setup({ types: { context: {} as { ref: string }, events: {} as { type: 'ticket.closed' } } }).createMachine({
  id: 'ticket',
  context: ({ input }) => ({ ref: (input as { ref: string }).ref }),
  initial: 'open',
  states: { open: { on: { 'ticket.closed': 'closed' } }, closed: { type: 'final' } },
});
const sources = parseWebhookSources({
  sources: [
    {
      name: 'gh',
      kind: 'github',
      secret: SECRET,
      map: { machine: 'ticket', key: 'ref', value: { from: '/issue/number' }, event: { type: 'ticket.closed' } },
    },
  ],
});

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

/** A server's parts on the test database, as a process would open them. */
async function server() {
  const orm = await openDatabase({ url: db.url, poolSize: 4 });
  const store = new PgInstanceStore(orm);
  const t = await createTestApi({
    machines: [{ machine: ticket, options: { version: '1', correlation: { ref: 'ref' } } }],
    simulation: { store },
    deps: { webhooks: { sources, deliveries: new PgWebhookDeliveryStore(orm) } },
  });
  return { t, orm, close: async () => (await t.runtime.close(), await store.close()) };
}

const delivery = (n: number, id: string) => {
  const body = JSON.stringify({ action: 'closed', issue: { number: n } });
  const sig = createHmac('sha256', SECRET).update(body).digest('hex');
  return { body, headers: { 'Content-Type': 'application/json', 'X-Hub-Signature-256': `sha256=${sig}`, 'X-GitHub-Delivery': id } };
};

test('a delivery id is kept in the database: after a restart its replay is still refused and changes nothing', async () => {
  const first = await server();
  await first.t.runtime.start({ machine: 'ticket', input: { ref: '17' } });
  const second = await first.t.runtime.start({ machine: 'ticket', input: { ref: '18' } });
  const ok = await first.t.call('POST', '/v1/hooks/gh', {
    key: null,
    raw: delivery(17, 'd-17').body,
    headers: delivery(17, 'd-17').headers,
  });
  expect([ok.status, ok.body.deliveries[0].state]).toEqual([200, 'closed']);
  await first.close();

  const again = await server();
  // The same delivery id with another body (signed correctly) is a replay too: the id names the delivery.
  for (const n of [17, 18]) {
    const r = await again.t.call('POST', '/v1/hooks/gh', {
      key: null,
      raw: delivery(n, 'd-17').body,
      headers: delivery(n, 'd-17').headers,
    });
    expect([r.status, r.body.error.code]).toEqual([409, 'webhook_replayed']);
  }
  expect((await again.t.runtime.get(second.id)).value).toBe('open');
  await again.close();
});

test('claims: one of two concurrent claims wins; an expired id is taken again; release forgets; expired rows are swept', async () => {
  const orm = await openDatabase({ url: db.url, poolSize: 4 });
  const store = new PgWebhookDeliveryStore(orm);
  const now = new Date('2026-12-08T10:00:00Z');
  const later = new Date(now.getTime() + 60_000);
  const wins = await Promise.all([store.claim('s', 'x', now, later), store.claim('s', 'x', now, later)]);
  expect(wins.filter(Boolean)).toHaveLength(1);
  expect(await store.claim('s', 'x', new Date(later.getTime() - 1), new Date(later.getTime() + 60_000))).toBe(false);
  expect(await store.claim('s', 'x', later, new Date(later.getTime() + 60_000))).toBe(true);
  await store.release('s', 'x');
  expect(await store.claim('s', 'x', later, new Date(later.getTime() + 60_000))).toBe(true);
  expect(await store.claim('s', 'old', now, later)).toBe(true);
  // A claim after "old" expired sweeps it.
  expect(await store.claim('s', 'y', new Date(later.getTime() + 1), new Date(later.getTime() + 120_000))).toBe(true);
  const pg = new Client({ connectionString: db.url });
  await pg.connect();
  const { rows } = await pg.query(`select delivery_id from sk_webhook_delivery where source = 's' order by delivery_id`);
  expect(rows.map((r) => r.delivery_id)).toEqual(['x', 'y']);
  await pg.end();
  await orm.close();
});
