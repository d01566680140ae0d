import { createRuntime } from 'statekeeper';
import { openDatabase, PgInstanceStore, startEmbeddedPostgres } from 'statekeeper/adapters/postgres';
import { order } from './order-machine.ts';

// DATABASE_URL, or a PostgreSQL server of our own: its binaries come with the package, its data stays in the folder.
const server = process.env.DATABASE_URL ? undefined : await startEmbeddedPostgres({ dataDir: '.statekeeper-example/pg' });
const store = new PgInstanceStore(await openDatabase({ url: process.env.DATABASE_URL ?? server!.url }));

// Stands in for a payment provider's client, which deduplicates charges by idempotency key as real ones do.
const charges = new Map<string, string>();
const payments = {
  async charge(amount: number, options: { idempotencyKey: string; signal: AbortSignal }): Promise<{ paymentId: string }> {
    options.signal.throwIfAborted();
    if (!charges.has(options.idempotencyKey)) charges.set(options.idempotencyKey, `pay_${charges.size + 1}_${amount}`);
    return { paymentId: charges.get(options.idempotencyKey)! };
  },
};

const runtime = await createRuntime({
  store,
  machines: [{ machine: order, options: { version: '1' } }],
  steps: {
    // ctx.idempotencyKey is the same on every attempt and after a restart: pass it to the payment API.
    chargeCard: async ({ amount }: { amount: number }, ctx) =>
      payments.charge(amount, { idempotencyKey: ctx.idempotencyKey, signal: ctx.signal }),
  },
});

// The idempotency key is your order's id: starting again with it returns the same instance.
const { id } = await runtime.start({ machine: 'order', input: { amount: 42 }, idempotencyKey: `order-${Date.now()}` });
// start resolves once the first state is committed; the charge runs after that. An event the
// current state does not handle is refused (handled: false), so wait for the step's result first.
await runtime.waitFor(id, (v) => v.value === 'awaitingShipment');
const shipped = await runtime.send(id, { type: 'order.shipped' }); // resolves after the commit
console.log(`order ${id}: ${String(shipped.value)}`); // order …: done

await runtime.close();
await store.close();
await server?.stop();
