import { describe, expect, test } from 'vitest';
import { Runtime } from '../../runtime/index.ts';
import { createStandardTestApi } from '../../test/support/api-test-support.ts';
import { payoutMachine } from '../../test/fixtures/api-machines.ts';

interface SseMessage {
  event?: string;
  id?: string;
  data?: string;
  comment?: string;
}

/** Reads server-sent events from a response body. */
function sseReader(res: Response) {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const parse = (block: string): SseMessage => {
    const m: SseMessage = {};
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) m.comment = line.slice(1).trim();
      else {
        const at = line.indexOf(': ');
        const [k, v] = [line.slice(0, at), line.slice(at + 2)];
        if (k === 'data') m.data = m.data === undefined ? v : `${m.data}\n${v}`;
        else if (k === 'event' || k === 'id') m[k] = v;
      }
    }
    return m;
  };
  return {
    /** The next message, or undefined when the stream has ended. */
    async next(): Promise<SseMessage | undefined> {
      for (;;) {
        const end = buffer.indexOf('\n\n');
        if (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          return parse(block);
        }
        const { done, value } = await reader.read();
        if (done) return undefined;
        buffer += decoder.decode(value, { stream: true });
      }
    },
    /** The next message that is not a keep-alive comment. */
    async nextEvent(): Promise<SseMessage | undefined> {
      for (;;) {
        const m = await this.next();
        if (!m || m.event) return m;
      }
    },
    cancel: () => reader.cancel(),
  };
}

describe('GET /v1/instances/{id}/stream', () => {
  test('a snapshot, then each committed change, then end when the instance finishes', async () => {
    const api = await createStandardTestApi();
    const { body: started } = await api.call('POST', '/v1/machines/greeting/instances?wait=settled', { body: { input: { name: 'Ada' } } });
    const res = await api.request('GET', `/v1/instances/${started.id}/stream`, { key: api.keys.viewer });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const sse = sseReader(res);

    const snapshot = await sse.nextEvent();
    expect(snapshot).toMatchObject({ event: 'snapshot', id: '2' });
    expect(JSON.parse(snapshot!.data!)).toMatchObject({
      id: started.id,
      state: 'awaitingConfirmation',
      context: { name: 'Ada' },
      acceptedEvents: [{ type: 'greeting.cancel' }, { type: 'greeting.confirm' }],
    });

    // Quiet: keep-alive comments arrive (the harness sends one every 50 ms).
    expect(await sse.next()).toEqual({ comment: 'keep-alive' });

    await api.call('POST', `/v1/instances/${started.id}/events`, { body: { type: 'greeting.confirm' } });
    const change = await sse.nextEvent();
    expect(change).toMatchObject({ event: 'change', id: '3' });
    expect(JSON.parse(change!.data!)).toEqual({
      instanceId: started.id,
      version: 3,
      status: 'done',
      state: 'confirmed',
      tags: [],
      eventType: 'greeting.confirm',
    });
    const end = await sse.nextEvent();
    expect(end).toMatchObject({ event: 'end', id: '3' });
    expect(JSON.parse(end!.data!)).toEqual({ instanceId: started.id, version: 3, status: 'done' });
    expect(await sse.next()).toBeUndefined();
  });

  test('changes committed by another process are picked up by the poll', async () => {
    const api = await createStandardTestApi();
    const { body: started } = await api.call('POST', '/v1/machines/payout/instances?wait=settled', {
      body: { input: { amount: 1, cardNumber: '4242', owner: { name: 'a', password: 'b' } } },
    });
    const sse = sseReader(await api.request('GET', `/v1/instances/${started.id}/stream`));
    expect((await sse.nextEvent())?.event).toBe('snapshot');
    // A second runtime on the same store stands in for another server process.
    const other = new Runtime({ store: api.sim.store, clock: api.sim.clock, workerId: 'other', pollIntervalMs: 0 });
    // Its steps are not called here, but a machine registers only with every step it invokes.
    other.register(payoutMachine, { version: '1', steps: { charge: async () => ({}) } });
    await other.send(started.id, { type: 'payout.note', text: 'from elsewhere' });
    const change = await sse.nextEvent();
    expect(change).toMatchObject({ event: 'change', id: '3' });
    expect(JSON.parse(change!.data!)).toMatchObject({ version: 3, state: 'review', eventType: null });
    await sse.cancel();
    await other.close();
  });

  test('an instance that has already finished gets its snapshot and end at once', async () => {
    const api = await createStandardTestApi();
    const { body } = await api.call('POST', '/v1/machines/three-steps/instances?wait=settled', { body: { input: { n: 1 } } });
    expect(body.status).toBe('done');
    const sse = sseReader(await api.request('GET', `/v1/instances/${body.id}/stream`));
    expect((await sse.nextEvent())?.event).toBe('snapshot');
    expect((await sse.nextEvent())?.event).toBe('end');
    expect(await sse.next()).toBeUndefined();
  });

  test('a client that goes away releases its subscription', async () => {
    const api = await createStandardTestApi();
    const { body } = await api.call('POST', '/v1/machines/deadline/instances', { body: {} });
    const listeners = () => api.runtime.subscriberCount;
    const before = listeners();
    const sse = sseReader(await api.request('GET', `/v1/instances/${body.id}/stream`));
    await sse.nextEvent();
    expect(listeners()).toBe(before + 1);
    await sse.cancel();
    await new Promise((r) => setTimeout(r, 100));
    expect(listeners()).toBe(before);
  });

  test('unknown or other tenant 404 (no stream opened), viewer role needed', async () => {
    const api = await createStandardTestApi();
    const { body } = await api.call('POST', '/v1/machines/deadline/instances', { body: {} });
    const other = await api.call('GET', `/v1/instances/${body.id}/stream`, { key: api.keys.otherTenant });
    expect([other.status, other.body.error.code]).toEqual([404, 'instance_not_found']);
    expect((await api.call('GET', '/v1/instances/ghost/stream')).status).toBe(404);
    expect((await api.call('GET', `/v1/instances/${body.id}/stream`, { key: null })).status).toBe(401);
  });
});
