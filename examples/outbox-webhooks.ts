import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { emit, setup } from 'xstate';
import { verifyWebhook } from 'statekeeper';
import { createSimulation } from 'statekeeper/testing';

// A payment that emits `payment.captured`: the commit that captures it writes the outbox row.
const payment = setup({
  types: { events: {} as { type: 'capture'; amount: number }, emitted: {} as { type: 'payment.captured'; amount: number } },
}).createMachine({
  id: 'payment',
  initial: 'open',
  states: {
    open: { on: { capture: { target: 'captured', actions: emit(({ event }) => ({ type: 'payment.captured', amount: event.amount })) } } },
    captured: { type: 'final' },
  },
});

// A receiver: it checks the signature over the raw body before trusting anything, and deduplicates by webhook-id.
let secret = '';
const received = new Map<string, unknown>();
const server = createServer((req, res) => {
  let body = '';
  req.on('data', (chunk) => (body += chunk));
  req.on('end', () => {
    const h = { id: String(req.headers['webhook-id']), timestamp: String(req.headers['webhook-timestamp']) };
    if (!verifyWebhook(secret, { ...h, signature: String(req.headers['webhook-signature']) }, body)) return res.writeHead(401).end();
    received.set(h.id, JSON.parse(body));
    res.writeHead(204).end();
  });
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;

const sim = await createSimulation({ machines: [{ machine: payment, options: { version: '1' } }] });
// The secret comes back once, at creation: the receiver keeps it.
({ secret } = await sim.runtime.outbox.createWebhook({ url, eventTypes: ['payment.*'] }, { tenant: 'default' }));
// An in-process subscriber: durable by name, at least once, in order per instance.
const ledger: number[] = [];
await sim.runtime.outbox.subscribe('ledger', { eventTypes: ['payment.captured'] }, (m) => {
  ledger.push((m.payload as { amount: number }).amount);
});

const { id } = await sim.runtime.start({ machine: 'payment' });
await sim.runtime.send(id, { type: 'capture', amount: 42 });
await sim.settle(); // deliveries are made and recorded
assert.deepEqual(ledger, [42]);
assert.deepEqual(
  [...received.values()],
  [
    {
      type: 'payment.captured',
      timestamp: (await sim.runtime.get(id)).updatedAt.toISOString(),
      data: { type: 'payment.captured', amount: 42 },
      instanceId: id,
      tenant: 'default',
      seq: 2,
      outboxId: 1,
    },
  ],
);
await sim.runtime.close();
server.close();
console.log('webhook verified and delivered: payment.captured');
