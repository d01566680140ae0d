import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { newWebhookSecret, verifyWebhook } from '../runtime/outbox/webhook-signature.ts';
import { crashHarness } from './support/crash-harness.ts';
import { eventually } from './support/poll.ts';
import { startWebhookReceiver, type WebhookReceiver } from './support/webhook-receiver.ts';

const script = fileURLToPath(new URL('./support/outbox-worker-process.ts', import.meta.url));

/**
 * No outbox row is lost and none overtakes an earlier one of its instance across a SIGKILL of the delivering
 * process: it is killed while the receiver holds one of its requests, a new process with the same worker id
 * resumes, and every row reaches the receiver, each instance's rows in order.
 */
describe('outbox delivery across SIGKILL', () => {
  const { spawn, q } = crashHarness({ WORKER_ID: 'outbox-crash-worker' }, script);
  let receiver: WebhookReceiver | undefined;
  afterAll(async () => receiver?.close());

  test('killed while a webhook request is in flight: every row is delivered at least once, in order per instance', {
    timeout: 180_000,
  }, async () => {
    receiver = await startWebhookReceiver();
    const secret = newWebhookSecret();
    const first = await spawn();
    await q(
      `insert into sk_subscription (id, tenant, kind, url, event_types, secret, created_at)
       values ('sub_crash', 'default', 'webhook', $1, '["*"]', to_jsonb($2::text), now())`,
      [receiver.url, secret],
    );
    // The 6th request is held until the process that sent it is dead; the others take a little time each.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let count = 0;
    let holding: string | undefined;
    receiver.respond = async (r) => {
      if (++count === 6) {
        holding = r.id;
        await held;
        return 200; // answered to a dead process: it never recorded it
      }
      await new Promise((r) => setTimeout(r, 10));
      return count % 5 === 0 ? 500 : 200;
    };
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await first.call('start', { machine: 'emitter' })).id);
    for (let n = 1; n <= 4; n++) for (const id of ids) await first.call('send', id, { type: 'go', kind: 'order.step', n, twice: true });

    await eventually(async () => holding, 'the receiver to hold a request', 60_000);
    await first.kill();
    release();

    await spawn();
    const rows = await q(`select id, instance_id from sk_outbox order by id`);
    expect(rows).toHaveLength(3 * 8);
    await eventually(
      async () => (await q(`select 1 from sk_delivery where status <> 'delivered'`)).length === 0,
      'every delivery to be recorded as delivered',
      120_000,
    );
    // published_at is set in the transaction recording the last delivery, which may still be committing.
    await eventually(
      async () => (await q(`select count(*)::int as n from sk_outbox where published_at is null`))[0].n === 0,
      'every outbox row to be published',
      30_000,
    );

    // Every request is signed; every row got a 2xx answer at least once.
    for (const r of receiver.received) expect(verifyWebhook(secret, r, r.body)).toBe(true);
    const ok = new Set(receiver.received.filter((r) => r.status < 300).map((r) => r.json.outboxId));
    expect(rows.filter((r) => !ok.has(Number(r.id)))).toEqual([]);
    // One instance's requests never overtake: once a row is asked for, no earlier row of the instance comes after.
    for (const id of ids) {
      const ns = receiver.received.filter((r) => r.json.instanceId === id).map((r) => r.json.data.n);
      expect(ns).toEqual([...ns].sort((a, b) => a - b));
      expect(new Set(ns)).toEqual(new Set([1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5]));
    }
    // The held request was made again by the new process, under the same webhook-id.
    expect(receiver.received.filter((r) => r.id === holding).length).toBeGreaterThanOrEqual(2);
  });
});
