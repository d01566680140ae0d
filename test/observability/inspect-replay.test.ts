import { createServer } from 'node:net';
import { createWebSocketReceiver, type StatelyInspectionEvent } from '@statelyai/inspect';
import { afterAll, expect, test } from 'vitest';
import { startInspector } from '../../observability/inspect.ts';
import { createStandardTestApi } from '../support/api-test-support.ts';
import { eventually } from '../support/poll.ts';

/** What a receiver saw, reduced to what a person stepping through the run sees. */
function steps(events: StatelyInspectionEvent[]) {
  return events.map((e) => {
    if (e.type === '@xstate.actor')
      return { type: e.type, session: e.sessionId, name: e.name, parent: e.parentId ?? null, value: e.snapshot.value };
    if (e.type === '@xstate.event') return { type: e.type, session: e.sessionId, event: e.event.type };
    return {
      type: e.type,
      session: e.sessionId,
      event: e.event.type,
      status: e.snapshot.status,
      value: (e.snapshot as { value?: unknown }).value,
    };
  });
}

const received: StatelyInspectionEvent[] = [];
const api = await createStandardTestApi({
  deps: { inspector: { adapter: { send: (e) => void received.push(e) }, url: 'http://localhost:0' } },
});

test('a finished run replays as @xstate.actor, then @xstate.event and @xstate.snapshot per event, with context', async () => {
  const started = await api.call('POST', '/v1/machines/greeting/instances', { body: { input: { name: 'Ada' } } });
  const id = started.body.id as string;
  await api.sim.settle();
  await api.call('POST', `/v1/instances/${id}/events`, { body: { type: 'greeting.confirm' } });
  received.length = 0;

  const res = await api.call('GET', `/v1/instances/${id}/inspect`);
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({ instanceId: id, sent: true, instances: 1, mismatches: [] });
  expect(steps(received)).toEqual([
    { type: '@xstate.actor', session: id, name: 'greeting', parent: null, value: 'composing' },
    { type: '@xstate.event', session: id, event: 'xstate.done.actor.compose' },
    { type: '@xstate.snapshot', session: id, event: 'xstate.done.actor.compose', status: 'active', value: 'awaitingConfirmation' },
    { type: '@xstate.event', session: id, event: 'greeting.confirm' },
    { type: '@xstate.snapshot', session: id, event: 'greeting.confirm', status: 'done', value: 'confirmed' },
  ]);
  // The replayed snapshots carry the context as it was after each event, the actor its machine definition.
  const afterCompose = received[2] as Extract<StatelyInspectionEvent, { type: '@xstate.snapshot' }>;
  expect((afterCompose.snapshot as { context?: unknown }).context).toMatchObject({ name: 'Ada', message: expect.stringContaining('Ada') });
  const actor = received[0] as Extract<StatelyInspectionEvent, { type: '@xstate.actor' }>;
  expect(JSON.parse(actor.definition!)).toMatchObject({ id: 'greeting', initial: 'composing' });
  // The response holds the same events, so a client can feed an inspector itself.
  expect(steps(res.body.events)).toEqual(steps(received));
});

test('child instances replay as actors under their parent, the events of each instance in order', async () => {
  const started = await api.call('POST', '/v1/machines/parent-flow/instances', { body: {} });
  const parentId = started.body.id as string;
  await api.sim.settle();
  const child = (await api.runtime.effects(parentId)).find((e) => e.kind === 'child')!;
  await api.runtime.send(child.id, { type: 'go' });
  await api.sim.settle();
  expect((await api.runtime.get(parentId)).status).toBe('done');

  const res = await api.call('GET', `/v1/instances/${parentId}/inspect`);
  expect(res.body).toMatchObject({ instances: 2, mismatches: [] });
  const seen = steps(res.body.events);
  expect(seen[0]).toMatchObject({ type: '@xstate.actor', session: parentId, name: 'parent-flow', parent: null });
  expect(seen.filter((s) => s.type === '@xstate.actor' && s.session === child.id)).toEqual([
    { type: '@xstate.actor', session: child.id, name: 'child-flow', parent: parentId, value: 'waiting' },
  ]);
  // Each instance's events in its own order (across instances, rows interleave by commit time).
  const eventsOf = (session: string) => seen.filter((s) => s.type === '@xstate.event' && s.session === session).map((s) => s.event);
  expect(eventsOf(child.id)).toEqual(['go']);
  expect(eventsOf(parentId)).toEqual(['child.progress', 'xstate.done.actor.kid']);
  expect(seen.filter((s) => s.session === parentId).at(-1)).toMatchObject({ type: '@xstate.snapshot', status: 'done', value: 'done' });
});

test('secrets in events and context are redacted before they reach the inspector', async () => {
  const input = { amount: 5, cardNumber: '4111111111111111', owner: { name: 'Ada', password: 'hunter2-secret' } };
  const started = await api.call('POST', '/v1/machines/payout/instances', { body: { input } });
  expect(started.status).toBe(201);
  await api.sim.settle();
  received.length = 0;
  const res = await api.call('GET', `/v1/instances/${started.body.id}/inspect`);
  expect(res.status).toBe(200);
  expect(received.length).toBeGreaterThan(1);
  for (const secret of ['4111111111111111', 'hunter2-secret', 'tok_abc']) {
    expect(JSON.stringify(received)).not.toContain(secret);
    expect(JSON.stringify(res.body)).not.toContain(secret);
  }
});

test('another tenant cannot replay an instance (404), a viewer can', async () => {
  const started = await api.call('POST', '/v1/machines/greeting/instances', { body: { input: { name: 'Eve' } } });
  expect((await api.call('GET', `/v1/instances/${started.body.id}/inspect`, { key: api.keys.otherTenant })).status).toBe(404);
  expect((await api.call('GET', `/v1/instances/${started.body.id}/inspect`, { key: api.keys.viewer })).status).toBe(200);
});

const relays: { close(): void }[] = [];
afterAll(() => relays.forEach((r) => r.close()));

test('through the inspector relay (STATEKEEPER_INSPECT=on): a WebSocket receiver gets the replayed sequence', async () => {
  const port = await freePort();
  const relay = startInspector(port);
  relays.push(relay);
  const relayed = await createStandardTestApi({ deps: { inspector: relay } });
  const started = await relayed.call('POST', '/v1/machines/three-steps/instances', { body: { input: { n: 1 } } });
  await relayed.sim.settle();
  const res = await relayed.call('GET', `/v1/instances/${started.body.id}/inspect`);
  expect(res.body.sent).toBe(true);

  // The relay keeps what it was sent and hands it to a page (here: a receiver) that connects later.
  const got: StatelyInspectionEvent[] = [];
  createWebSocketReceiver({ server: `ws://localhost:${port}` }).subscribe((e) => void got.push(e));
  await eventually(async () => got.filter((e) => e.sessionId === started.body.id).length >= 7, 'the relayed replay');
  const mine = got.filter((e) => e.sessionId === started.body.id);
  expect(mine.map((e) => e.type)).toEqual(['@xstate.actor', ...Array(3).fill(['@xstate.event', '@xstate.snapshot']).flat()]);
  expect(mine.filter((e) => e.type === '@xstate.snapshot').map((e) => (e.snapshot as { value?: unknown }).value)).toEqual([
    'b',
    'c',
    'done',
  ]);
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}
