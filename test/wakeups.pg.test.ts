import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openDatabase } from '../adapters/postgres/orm.ts';
import { PgInstanceStore } from '../adapters/postgres/pg-instance-store.ts';
import { PgNotifier } from '../adapters/postgres/pg-notifier.ts';
import { PgApiKeyStore } from '../adapters/postgres/pg-key-store.ts';
import { ApiKeyAuthenticator, createApiKey } from '../api/auth/api-keys.ts';
import { CachedApiKeyStore } from '../api/auth/key-cache.ts';
import { createRuntime, type RemoteChange, type Runtime } from '../runtime/index.ts';
import type { StepRegistry } from '../runtime/step-types.ts';
import { counter, threeSteps } from './fixtures/machines.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { eventually } from './support/poll.ts';

/** A poll interval no test waits for: whatever happens promptly came by NOTIFY. */
const MINUTE = 60_000;

const quickSteps: StepRegistry = {
  stepA: async ({ n }: { n: number }) => ({ a: n }),
  stepB: async ({ n }: { n: number }) => ({ b: n }),
  stepC: async ({ n }: { n: number }) => ({ c: n }),
};

/** Two runtimes on one database, each with its own pool, store and listening connection, as two processes have. */
describe('wake-ups by LISTEN/NOTIFY between runtimes on one database', () => {
  let db: TestDatabase;
  let admin: pg.Client;
  const closers: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
  });
  afterAll(async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    await admin?.end();
    await db?.drop();
  });

  async function node(name: string, o: { pollIntervalMs?: number; steps?: StepRegistry; backoffMs?: number } = {}) {
    const orm = await openDatabase({ url: db.url, poolSize: 4 });
    const store = new PgInstanceStore(orm);
    const notifier = new PgNotifier({ url: db.url, origin: store.origin, backoffMs: o.backoffMs });
    await notifier.start();
    const runtime = await createRuntime({
      store,
      workerId: name,
      pollIntervalMs: o.pollIntervalMs ?? MINUTE,
      wakeups: notifier,
      steps: o.steps ?? quickSteps,
      machines: [
        { machine: counter, options: { version: '1' } },
        { machine: threeSteps, options: { version: '1' } },
      ],
    });
    closers.push(
      () => orm.close(),
      () => notifier.close(),
      () => runtime.close(),
    );
    return { runtime, notifier, orm };
  }

  const itemsOf = async (r: Runtime, id: string) => ((await r.get(id)).context as { items: string[] }).items;

  test('a change committed by B reaches A at once: remote subscribers, waits, and A drops its stale cached copy', async () => {
    const a = await node('a');
    const b = await node('b');
    const { id } = await a.runtime.start({ machine: 'counter' });
    expect(a.runtime.cachedInstances).toBe(1);
    const seen: RemoteChange[] = [];
    a.runtime.subscribeRemote((c) => seen.push(c));
    // Polls once a minute at most: only an announcement can end this wait within its 20 s.
    const waited = a.runtime.waitUntil(async () => ((await a.runtime.get(id)).version >= 2 ? true : undefined), {
      instanceId: id,
      pollMs: MINUTE,
      timeoutMs: 20_000,
    });
    await b.runtime.send(id, { type: 'add', item: 'from-b' });
    expect(await waited).toBe(true);
    await eventually(async () => seen.some((c) => c.instanceId === id && c.version === 2), 'A to hear of version 2');
    expect(seen.find((c) => c.instanceId === id)).toEqual({ instanceId: id, tenant: 'default', version: 2, status: 'active' });
    // A's copy (version 1) is stale: it is evicted, so A's next event reloads instead of conflicting.
    await eventually(async () => a.runtime.cachedInstances === 0, "A's stale copy to be evicted");
    await a.runtime.send(id, { type: 'add', item: 'from-a' });
    expect(await itemsOf(a.runtime, id)).toEqual(['from-b', 'from-a']);
    // A's own commits are not announced back to A.
    expect(seen.filter((c) => c.instanceId === id).map((c) => c.version)).toEqual([2]);
    // waitFor too: it wakes on the announcement of B's commit.
    const done = a.runtime.waitFor(id, (v) => (v.context as { items: string[] }).items.length === 3, 20_000);
    await b.runtime.send(id, { type: 'add', item: 'again-from-b' });
    expect((await done).version).toBe(4);
  });

  test("a tenant's instance with a chosen id is announced by the id its tenant knows it by, and waits by that id wake", async () => {
    const a = await node('a5');
    const b = await node('b5');
    await a.runtime.start({ machine: 'counter', tenant: 'acme', instanceId: 'order-1' });
    const seen: RemoteChange[] = [];
    a.runtime.subscribeRemote((c) => seen.push(c));
    const waited = a.runtime.waitUntil(async () => ((await a.runtime.get('order-1', { tenant: 'acme' })).version >= 2 ? true : undefined), {
      instanceId: 'order-1',
      tenant: 'acme',
      pollMs: MINUTE,
      timeoutMs: 20_000,
    });
    await b.runtime.send('order-1', { type: 'add', item: 'x' }, { tenant: 'acme' });
    expect(await waited).toBe(true);
    await eventually(async () => seen.length > 0, 'A to hear of the change');
    expect(seen[0]).toEqual({ instanceId: 'order-1', tenant: 'acme', version: 2, status: 'active' });
  });

  test('leases released by a graceful stop are claimed by the other runtime at once, not at its next poll', async () => {
    let started!: () => void;
    const stepStarted = new Promise<void>((r) => (started = r));
    // B's stepA runs until B stops (aborted, so it stays open for someone else).
    const hanging: StepRegistry = {
      ...quickSteps,
      stepA: (_input: { n: number }, ctx) => {
        started();
        return new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('stopped'))));
      },
    };
    const a = await node('a2');
    const b = await node('b2', { steps: hanging });
    const { id } = await b.runtime.start({ machine: 'three-steps', input: { n: 7 } });
    await stepStarted;
    await b.runtime.close();
    const done = await a.runtime.waitFor(id, (v) => v.status === 'done', 20_000);
    expect(done.output).toEqual({ results: [{ a: 7 }, { b: 7 }, { c: 7 }] });
  });

  test('a lost announcement (listener killed) is covered by polling, and the listener reconnects', async () => {
    // A reconnects after 1.5 s at the earliest: B's commit below falls while it is not listening.
    const a = await node('a3', { backoffMs: 1_500 });
    const b = await node('b3');
    const { id } = await a.runtime.start({ machine: 'counter' });
    const seen: RemoteChange[] = [];
    a.runtime.subscribeRemote((c) => seen.push(c));
    const pid = a.notifier.backendPid;
    expect(pid).toBeTypeOf('number');
    await admin.query('select pg_terminate_backend($1)', [pid]);
    await eventually(async () => !a.notifier.connected, "A's listener to notice it was cut off");
    await b.runtime.send(id, { type: 'add', item: 'while-away' });
    // The wait's own poll (250 ms by default) finds B's commit without an announcement.
    const v = await a.runtime.waitFor(id, (x) => x.version === 2, 20_000);
    expect(v.version).toBe(2);
    await eventually(async () => a.notifier.connected && a.notifier.reconnects === 1, "A's listener to reconnect");
    expect(a.notifier.backendPid).not.toBe(pid);
    // Listening again: B's next commit is announced to A.
    await b.runtime.send(id, { type: 'add', item: 'after' });
    await eventually(async () => seen.some((c) => c.instanceId === id && c.version === 3), 'A to hear of version 3');
  });

  test('a key revoked through one process is refused by another at once, although it caches keys for an hour', async () => {
    const a = await node('a4');
    const b = await node('b4');
    const storeA = new CachedApiKeyStore(new PgApiKeyStore(a.orm), { ttlMs: 3_600_000 });
    const pgB = new CountingKeyStore(b.orm);
    const storeB = new CachedApiKeyStore(pgB, { ttlMs: 3_600_000 });
    b.notifier.subscribe((w) => w.kind === 'key_revoked' && storeB.invalidate(w.keyId));
    const authB = new ApiKeyAuthenticator(storeB);
    const { key, record } = await createApiKey(storeA, { tenant: 'acme', name: 'ci', roles: 'operator' });
    expect(await authB.authenticate(key)).toMatchObject({ tenant: 'acme', subject: 'apikey:ci' });
    // Cached: B asks the database no more.
    const before = pgB.gets;
    for (let i = 0; i < 20; i++) expect(await authB.authenticate(key)).toBeDefined();
    expect(pgB.gets).toBe(before);
    expect(await storeA.revoke(record.id, new Date())).toBe(true);
    await eventually(async () => (await authB.authenticate(key)) === undefined, 'B to refuse the revoked key');
  });
});

/** Counts lookups that reach the database. */
class CountingKeyStore extends PgApiKeyStore {
  gets = 0;
  override async get(id: string) {
    this.gets++;
    return super.get(id);
  }
}
