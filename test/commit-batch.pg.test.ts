import { expect, test } from 'vitest';
import { Runtime } from '../runtime/index.ts';
import type { CommitRequest } from '../runtime/ports.ts';
import { counter } from './fixtures/machines.ts';
import { pgStoreFactory } from './support/pg-store.ts';

const newStore = pgStoreFactory();

/** A commit of an `add` event as the runtime would build it, on top of `version`. */
function addCommit(instanceId: string, version: number, item: string, idempotencyKey: string | null): CommitRequest {
  return {
    instanceId,
    expectedVersion: version,
    change: {
      snapshot: { status: 'active', value: 'open', context: { items: [item] }, children: {}, historyValue: {} },
      status: 'active',
      stateValue: 'open',
      tags: [],
      output: null,
      error: null,
    },
    event: { type: 'add', payload: { item }, source: 'api', actor: null, handled: true, idempotencyKey },
    newEffects: [],
    cancel: [],
    outbox: [],
    now: new Date(),
  };
}

test('commits of many instances share statements; a duplicate key fails only its own write; a stale version only its own', async () => {
  const store = await newStore();
  const runtime = new Runtime({ store, pollIntervalMs: 0 });
  runtime.register(counter, { version: '1' });
  const ids = await Promise.all(Array.from({ length: 12 }, async () => (await runtime.start({ machine: 'counter' })).id));
  await runtime.send(ids[0]!, { type: 'add', item: 'first' }, { idempotencyKey: 'k-1' });

  const results = await Promise.all([
    store.commit(addCommit(ids[0]!, 2, 'again', 'k-1')), // same key on the same instance: a duplicate
    store.commit(addCommit(ids[1]!, 7, 'stale', null)), // wrong version: a conflict
    ...ids.slice(2).map((id, n) => store.commit(addCommit(id, 1, `item-${n}`, `key-${n}`))),
  ]);
  expect(results[0]).toEqual({ ok: false, reason: 'duplicate_event' });
  expect(results[1]).toEqual({ ok: false, reason: 'version_conflict' });
  expect(results.slice(2)).toEqual(ids.slice(2).map(() => ({ ok: true, version: 2 })));
  for (const [n, id] of ids.slice(2).entries()) {
    const h = await store.history(id, 0, 10);
    expect(h.map((e) => [e.seq, e.type, e.idempotencyKey])).toEqual([
      [1, 'xstate.init', null],
      [2, 'add', `key-${n}`],
    ]);
  }
  expect((await store.history(ids[0]!, 0, 10)).map((e) => e.seq)).toEqual([1, 2]);
  expect((await store.get(ids[1]!))!.version).toBe(1);
  await runtime.close();
});
