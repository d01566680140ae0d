import { afterAll, beforeAll, expect, test } from 'vitest';
import type { MikroORM } from '@mikro-orm/postgresql';
import { FieldCipher, SealedOutboxStore, SealedStore, SecretFields } from '../adapters/encryption/index.ts';
import { openDatabase } from '../adapters/postgres/orm.ts';
import { PgInstanceStore } from '../adapters/postgres/pg-instance-store.ts';
import { PgOutboxStore } from '../adapters/postgres/pg-outbox-store.ts';
import { createRuntime, verifyWebhook, type Runtime } from '../runtime/index.ts';
import { emitter } from './fixtures/emitter.machine.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { eventually } from './support/poll.ts';
import { startWebhookReceiver, type WebhookReceiver } from './support/webhook-receiver.ts';

/** With encryption keys, webhook secrets and sealed payload fields are ciphertext in the database and plain on the wire. */
let db: TestDatabase;
let orm: MikroORM;
let runtime: Runtime;
let receiver: WebhookReceiver;
beforeAll(async () => {
  db = await createTestDatabase();
  orm = await openDatabase({ url: db.url, poolSize: 4 });
  receiver = await startWebhookReceiver();
  const fields = new SecretFields(new FieldCipher([{ id: 'k1', key: Buffer.alloc(32, 7) }]));
  const store = new PgInstanceStore(orm);
  runtime = await createRuntime({
    store: new SealedStore(store, fields, () => 'all'),
    pollIntervalMs: 200,
    machines: [{ machine: emitter, options: { version: '1' } }],
    outbox: { store: new SealedOutboxStore(new PgOutboxStore(orm, store.origin), fields) },
  });
});
afterAll(async () => {
  await runtime?.close();
  await receiver?.close();
  await orm?.close();
  await db?.drop();
});

test('the webhook secret and the outbox payload are sealed at rest; the receiver gets both working', { timeout: 60_000 }, async () => {
  const q = async (sql: string) => (await orm.em.getConnection().execute(sql, [], 'all')) as any[];
  const { secret } = await runtime.outbox.createWebhook({ url: receiver.url }, { tenant: 'default' });
  const { id } = await runtime.start({ machine: 'emitter' });
  await runtime.send(id, { type: 'go', kind: 'card.charged', n: 42 });
  const [r] = await eventually(async () => receiver.received.length > 0 && receiver.received, 'the webhook', 30_000);
  expect(r!.json.data).toEqual({ type: 'card.charged', n: 42 });
  expect(verifyWebhook(secret, r!, r!.body)).toBe(true);
  const [sub] = await q(`select secret::text as s from sk_subscription`);
  expect(sub.s).toContain('$sealed');
  expect(sub.s).not.toContain(secret.slice(6));
  const [row] = await q(`select payload::text as p from sk_outbox`);
  // The whole payload is one sealed envelope: nothing of the event is left beside the ciphertext. (Searching the
  // text for "42" would fail now and then: the ciphertext's own characters contain it by chance.)
  expect(row.p).toMatch(/^\{"\$sealed": "sk1\.k1(\.[A-Za-z0-9_-]+)+"\}$/);
  expect(row.p).not.toContain('card.charged');
});
