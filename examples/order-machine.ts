import { assign, setup } from 'xstate';
import { step } from 'statekeeper';

/** An order: charge the card (a durable step), then wait up to a day for shipment. */
export const order = setup({
  types: {
    input: {} as { amount: number },
    context: {} as { amount: number; paymentId?: string },
    events: {} as { type: 'order.shipped' },
  },
  actors: { chargeCard: step<{ amount: number }, { paymentId: string }>({ maxAttempts: 5, timeoutMs: 10_000 }) },
}).createMachine({
  id: 'order',
  context: ({ input }) => ({ amount: input.amount }),
  initial: 'charging',
  states: {
    charging: {
      invoke: {
        id: 'charge',
        src: 'chargeCard',
        input: ({ context }) => ({ amount: context.amount }),
        onDone: { target: 'awaitingShipment', actions: assign({ paymentId: ({ event }) => event.output.paymentId }) },
        onError: 'failed',
      },
    },
    awaitingShipment: { after: { 86_400_000: 'escalated' }, on: { 'order.shipped': 'done' } },
    escalated: { on: { 'order.shipped': 'done' } },
    done: { type: 'final' },
    failed: { type: 'final' },
  },
});
