import { afterAll, afterEach, beforeAll, describe, expect, onTestFinished, test } from 'vitest';
import type { MikroORM } from '@mikro-orm/postgresql';
import { openDatabase } from '../adapters/postgres/orm.ts';
import { PgInstanceStore } from '../adapters/postgres/pg-instance-store.ts';
import { PgOutboxStore } from '../adapters/postgres/pg-outbox-store.ts';
import { createRuntime, type Runtime } from '../runtime/index.ts';
import { verifyWebhook } from '../runtime/outbox/webhook-signature.ts';
import { emitter } from './fixtures/emitter.machine.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { eventually } from './support/poll.ts';
import { startWebhookReceiver, type WebhookReceiver } from './support/webhook-receiver.ts';

/**
 * Outbox delivery on PostgreSQL to a local HTTP receiver: signatures, retries on 500, dead letters,
 * redelivery, per-instance order, filters and tenants.
 */
describe('outbox delivery to webhooks (PostgreSQL)', () => {
  let db: TestDatabase;
  let orm: MikroORM;
  let runtime: Runtime;
  let receiver: WebhookReceiver;
  let outboxStore: PgOutboxStore;
  const q = async (sql: string, params: unknown[] = []) => (await orm.em.getConnection().execute(sql, params, 'all')) as any[];
  const go = (kind: string, n: number, twice = false) => ({ type: 'go', kind, n, twice });

  beforeAll(async () => {
    db = await createTestDatabase();
    orm = await openDatabase({ url: db.url, poolSize: 6 });
    const store = new PgInstanceStore(orm);
    outboxStore = new PgOutboxStore(orm, store.origin);
    runtime = await createRuntime({
      store,
      workerId: 'outbox-test',
      pollIntervalMs: 200,
      machines: [{ machine: emitter, options: { version: '1' } }],
      outbox: { store: outboxStore, maxAttempts: 3, backoffMs: 20, maxBackoffMs: 100, timeoutMs: 5000 },
    });
  });
  afterAll(async () => {
    await runtime?.close();
    await orm?.close();
    await db?.drop();
  });
  let subscriptions: string[] = [];
  const webhook = async (input: { eventTypes?: string[] } = {}, tenant = 'default') => {
    const made = await runtime.outbox.createWebhook({ url: receiver.url, ...input }, { tenant });
    subscriptions.push(made.subscription.id);
    return made;
  };
  afterEach(async () => {
    for (const id of subscriptions) await runtime.outbox.deleteSubscription(id, { tenant: 'default' }).catch(() => undefined);
    for (const id of subscriptions) await runtime.outbox.deleteSubscription(id, { tenant: 'acme' }).catch(() => undefined);
    subscriptions = [];
    await receiver?.close();
  });
  const fresh = async () => {
    receiver = await startWebhookReceiver();
    return receiver;
  };
  const deliveriesOf = (id: string) => runtime.deliveries(id, { tenant: 'default' }).then((p) => p.items);

  test('a row is POSTed once, signed (Standard Webhooks), and the outbox row is published', { timeout: 60_000 }, async () => {
    await fresh();
    const { subscription, secret } = await webhook();
    const { id } = await runtime.start({ machine: 'emitter' });
    await runtime.send(id, go('order.shipped', 7));
    const [r] = await eventually(async () => receiver.received.length >= 1 && receiver.received, 'the webhook', 30_000);
    expect(verifyWebhook(secret, r!, r!.body)).toBe(true);
    expect(verifyWebhook(secret, r!, r!.body.replace('7', '8'))).toBe(false);
    expect(verifyWebhook(`whsec_${Buffer.alloc(32, 1).toString('base64')}`, r!, r!.body)).toBe(false);
    expect(r!.json).toMatchObject({ type: 'order.shipped', instanceId: id, seq: 2, data: { type: 'order.shipped', n: 7 } });
    const [row] = await q(`select id, attempts, published_at from sk_outbox where instance_id = ?`, [id]);
    expect(r!.id).toBe(`${row.id}-${subscription.id}`);
    await eventually(async () => (await deliveriesOf(id))[0]?.status === 'delivered', 'the delivery to be recorded');
    const [published] = await eventually(async () => {
      const rows = await q(`select attempts, published_at from sk_outbox where instance_id = ?`, [id]);
      return rows[0]?.published_at ? rows : undefined;
    }, 'published_at');
    expect(published.attempts).toBe(1);
    expect(await deliveriesOf(id)).toMatchObject([{ status: 'delivered', attempts: 1, lastStatus: 200, subscriptionId: subscription.id }]);
  });

  test("the transaction recording a row's last delivery publishes it, also when two deliveries end at once", {
    timeout: 60_000,
  }, async () => {
    // Two subscriptions of handlers this process does not run: their deliveries are leased here by hand only.
    // Deleted at the end: a live subscription would get a delivery of every later test's rows.
    const subs = ['race-a', 'race-b'];
    onTestFinished(async () => {
      for (const sub of subs) await outboxStore.deleteSubscription(sub, new Date());
    });
    for (const id of subs) {
      const [tenant, url, secret, description, deletedAt] = ['default', null, null, null, null];
      await outboxStore.saveSubscription({
        id,
        tenant,
        kind: 'handler',
        url,
        eventTypes: [],
        secret,
        description,
        createdAt: new Date(),
        deletedAt,
      });
    }
    const outboxRow = async (instance: string) =>
      Number(
        (
          await q(`insert into sk_outbox (instance_id, seq, type, payload, created_at) values (?, 1, 'order', '{}', now()) returning id`, [
            instance,
          ])
        )[0].id,
      );
    const leased = (outboxId: number, sub: string, instance: string, owner: string) =>
      q(
        `insert into sk_delivery (id, outbox_id, subscription_id, instance_id, tenant, event_type, status, attempts,
          next_attempt_at, lease_owner, lease_until, created_at, updated_at)
        values (?, ?, ?, ?, 'default', 'order', 'pending', 0, now(), ?, now() + interval '1 minute', now(), now())`,
        [`${outboxId}-${sub}`, outboxId, sub, instance, owner],
      );
    const outboxState = async (id: number) => (await q(`select published_at, attempts from sk_outbox where id = ?`, [id]))[0];
    const owner = 'race-owner';
    const unpublished: number[] = [];
    for (let round = 0; round < 25; round++) {
      const id = await outboxRow(`race-${round}`);
      for (const sub of subs) await leased(id, sub, `race-${round}`, owner);
      // Both end together; each statement alone still sees the other pending unless they run one after another.
      const ends = [
        { status: 'delivered', httpStatus: 200 },
        { status: 'dead', httpStatus: 500, error: 'gave up', nextAttemptAt: null },
      ] as const;
      const recorded = await Promise.all(subs.map((sub, i) => outboxStore.recordAttempt(`${id}-${sub}`, owner, ends[i]!, new Date())));
      expect(recorded).toEqual([true, true]);
      // Nothing runs after recordAttempt: when both have returned, the row must be published already.
      const after = await outboxState(id);
      expect(after.attempts).toBe(2);
      if (!after.published_at) unpublished.push(id);
    }
    expect(unpublished).toEqual([]);
    // A lease that is not the caller's records nothing and publishes nothing.
    const lost = await outboxRow('race-lost');
    await leased(lost, 'race-a', 'race-lost', 'someone-else');
    expect(await outboxStore.recordAttempt(`${lost}-race-a`, owner, { status: 'delivered', httpStatus: 200 }, new Date())).toBe(false);
    expect(await outboxState(lost)).toEqual({ published_at: null, attempts: 0 });
  });

  test('a 500 is retried with the same webhook-id until it succeeds', { timeout: 60_000 }, async () => {
    await fresh();
    let calls = 0;
    receiver.respond = () => (++calls <= 2 ? 500 : 204);
    await webhook();
    const { id } = await runtime.start({ machine: 'emitter' });
    await runtime.send(id, go('order.shipped', 1));
    await eventually(async () => (await deliveriesOf(id))[0]?.status === 'delivered', 'the delivery', 30_000);
    expect(receiver.received.map((r) => r.status)).toEqual([500, 500, 204]);
    expect(new Set(receiver.received.map((r) => r.id)).size).toBe(1);
    expect((await deliveriesOf(id))[0]).toMatchObject({ attempts: 3, lastStatus: 204, lastError: 'HTTP 500: refused' });
  });

  test('after the last attempt a row is dead-lettered, the next row goes, and redelivery sends it again', { timeout: 60_000 }, async () => {
    await fresh();
    receiver.respond = (r) => (r.json.data.n === 1 ? 500 : 200);
    await webhook();
    const { id } = await runtime.start({ machine: 'emitter' });
    await runtime.send(id, go('order.shipped', 1));
    await runtime.send(id, go('order.shipped', 2));
    await eventually(async () => (await deliveriesOf(id)).every((d) => d.status !== 'pending'), 'both rows to end', 30_000);
    const [first, second] = await deliveriesOf(id);
    expect(first).toMatchObject({ status: 'dead', attempts: 3, lastError: 'HTTP 500: refused' });
    expect(second).toMatchObject({ status: 'delivered', attempts: 1 });
    // Row 2 was not sent before row 1 was dead-lettered.
    expect(receiver.received.map((r) => r.json.data.n)).toEqual([1, 1, 1, 2]);
    const dead = await runtime.outbox.deliveries({ tenant: 'default', status: ['dead'], instanceId: id });
    expect(dead.items.map((d) => d.id)).toEqual([first!.id]);

    receiver.respond = () => 200;
    expect(await runtime.outbox.redeliver(first!.id, { tenant: 'default' })).toMatchObject({ status: 'pending', attempts: 0 });
    await eventually(async () => (await deliveriesOf(id))[0]?.status === 'delivered', 'the redelivery', 30_000);
    expect(receiver.received.at(-1)).toMatchObject({ id: first!.id, status: 200 });
  });

  test('one instance rows reach a subscription in order, each only after the previous one ended', { timeout: 120_000 }, async () => {
    await fresh();
    // Slow and flaky answers: later rows would overtake earlier ones if anything ran them concurrently.
    // The first attempt of every odd row fails once (fewer failures than maxAttempts: nothing is dead-lettered).
    let k = 0;
    const failed = new Set<string>();
    receiver.respond = async (r) => {
      await new Promise((resolve) => setTimeout(resolve, (++k * 7) % 15));
      if (r.json.data.n % 2 !== 1 || failed.has(r.id)) return 200;
      failed.add(r.id);
      return 503;
    };
    await webhook();
    const ids = await Promise.all([1, 2, 3].map(async () => (await runtime.start({ machine: 'emitter' })).id));
    await Promise.all(
      ids.map(async (id) => {
        for (let n = 1; n <= 5; n++) await runtime.send(id, go('order.step', n, true));
      }),
    );
    await eventually(
      async () => (await runtime.outbox.deliveries({ tenant: 'default', status: ['pending'] })).items.length === 0,
      'every delivery to end',
      90_000,
    );
    expect(receiver.received.filter((r) => r.status === 503)).toHaveLength(ids.length * 3);
    for (const id of ids) {
      const seen = receiver.received.filter((r) => r.json.instanceId === id);
      const ns = seen.map((r) => r.json.data.n);
      // Requests of one instance: every attempt of a row comes before the first attempt of the next row.
      expect(ns).toEqual([...ns].sort((a, b) => a - b));
      expect([...new Set(seen.filter((r) => r.status === 200).map((r) => r.json.data.n))]).toEqual([
        1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5, 5.5,
      ]);
    }
  });

  test('two processes share the deliveries: none is lost, none overtakes an earlier row of its instance', {
    timeout: 120_000,
  }, async () => {
    await fresh();
    receiver.respond = async () => {
      await new Promise((r) => setTimeout(r, 5));
      return 200;
    };
    await webhook();
    // A second runtime on the same database, with a pool of its own: both claim (SKIP LOCKED) and deliver.
    const orm2 = await openDatabase({ url: db.url, poolSize: 4 });
    const store2 = new PgInstanceStore(orm2);
    const second = await createRuntime({
      store: store2,
      workerId: 'outbox-test-2',
      pollIntervalMs: 50,
      machines: [{ machine: emitter, options: { version: '1' } }],
      outbox: { store: new PgOutboxStore(orm2, store2.origin), backoffMs: 20, timeoutMs: 5000 },
    });
    try {
      const ids = await Promise.all([1, 2, 3, 4].map(async (i) => (await (i % 2 ? runtime : second).start({ machine: 'emitter' })).id));
      await Promise.all(
        ids.map(async (id, i) => {
          for (let n = 1; n <= 6; n++) await (i % 2 ? runtime : second).send(id, go('order.step', n));
        }),
      );
      await eventually(
        async () => (await runtime.outbox.deliveries({ tenant: 'default', status: ['pending'] })).items.length === 0,
        'every delivery to end',
        90_000,
      );
      for (const id of ids) {
        const ns = receiver.received.filter((r) => r.json.instanceId === id).map((r) => r.json.data.n);
        expect(ns).toEqual([1, 2, 3, 4, 5, 6]);
      }
      // No delivery was claimed by both processes: without failures, each row is sent exactly once.
      expect(receiver.received).toHaveLength(24);
    } finally {
      await second.close();
      await orm2.close();
    }
  });

  test('event type filters and tenants decide which subscriptions get a row', { timeout: 60_000 }, async () => {
    await fresh();
    const orders = await webhook({ eventTypes: ['order.*'] });
    const invoices = await webhook({ eventTypes: ['invoice.sent'] });
    const otherTenant = await webhook({}, 'acme');
    const { id } = await runtime.start({ machine: 'emitter' });
    await runtime.send(id, go('order.shipped', 1));
    await runtime.send(id, go('invoice.sent', 2));
    await runtime.send(id, go('invoice.voided', 3));
    await runtime.send(id, go('order', 4));
    await eventually(async () => receiver.received.length >= 2, 'two webhooks', 30_000);
    const bySub = (await deliveriesOf(id)).map((d) => [d.subscriptionId, d.eventType]);
    expect(bySub).toEqual([
      [orders.subscription.id, 'order.shipped'],
      [invoices.subscription.id, 'invoice.sent'],
    ]);
    expect(bySub.some(([s]) => s === otherTenant.subscription.id)).toBe(false);
    // Rows no subscription takes are published when written.
    const rows = await q(`select type, published_at from sk_outbox where instance_id = ? order by id`, [id]);
    expect(rows.filter((r) => r.type === 'invoice.voided' || r.type === 'order').every((r) => r.published_at)).toBe(true);
  });

  test('deleting a subscription cancels its pending deliveries', { timeout: 60_000 }, async () => {
    await fresh();
    receiver.respond = () => 500;
    const { subscription } = await webhook();
    const { id } = await runtime.start({ machine: 'emitter' });
    await runtime.send(id, go('order.shipped', 1));
    await runtime.send(id, go('order.shipped', 2));
    await eventually(async () => receiver.received.length >= 1, 'a first attempt', 30_000);
    await runtime.outbox.deleteSubscription(subscription.id, { tenant: 'default' });
    await eventually(async () => (await deliveriesOf(id)).every((d) => d.status !== 'pending'), 'no pending delivery');
    expect((await deliveriesOf(id)).map((d) => d.status)).toContain('cancelled');
    await expect(runtime.outbox.subscription(subscription.id, { tenant: 'default' })).rejects.toMatchObject({
      code: 'subscription_not_found',
    });
  });
});
