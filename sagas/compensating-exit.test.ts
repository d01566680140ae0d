import { assign, setup } from 'xstate';
import { describe, expect, it } from 'vitest';
import { Drive, childEvents, done, fail, replayShortestPaths } from '../machines/machine-testing.ts';
import { step } from '../runtime/step.ts';

/**
 * A statechart written by hand, without `defineSaga`, whose failure exit is a
 * compensation: reserve stock, charge, and release the stock when the charge
 * fails. It uses nothing but `setup`, `step` placeholders and plain states,
 * so the runtime treats it like any saga (same events, same invoke-id rules).
 */
const orderMachine = setup({
  types: {
    context: {} as { sku: string; reservationId: string | null; paymentId: string | null },
    input: {} as { sku: string },
  },
  actors: {
    reserveStock: step<{ sku: string }, { reservationId: string }>({ maxAttempts: 3 }),
    releaseStock: step<{ reservationId: string }, void>({ maxAttempts: 10 }),
    charge: step<{ sku: string }, { paymentId: string }>({ maxAttempts: 2 }),
  },
}).createMachine({
  id: 'order',
  context: ({ input }) => ({ sku: input.sku, reservationId: null, paymentId: null }),
  initial: 'reserving',
  states: {
    reserving: {
      tags: ['running'],
      invoke: {
        id: 'reserve',
        src: 'reserveStock',
        input: ({ context }) => ({ sku: context.sku }),
        onDone: { target: 'charging', actions: assign({ reservationId: ({ event }) => event.output.reservationId }) },
        onError: 'failed',
      },
    },
    charging: {
      tags: ['running'],
      invoke: {
        id: 'charge',
        src: 'charge',
        input: ({ context }) => ({ sku: context.sku }),
        onDone: { target: 'ordered', actions: assign({ paymentId: ({ event }) => event.output.paymentId }) },
        // The compensating exit: leaving through the error undoes the reservation.
        onError: 'releasing',
      },
    },
    releasing: {
      tags: ['rolling_back'],
      meta: { step: 'reserve', phase: 'compensation' },
      invoke: {
        id: 'compensate.reserve',
        src: 'releaseStock',
        input: ({ context }) => ({ reservationId: context.reservationId! }),
        onDone: 'failed',
        onError: 'releaseFailed',
      },
    },
    releaseFailed: {
      tags: ['compensation_failed'],
      meta: { roles: { 'operator.retry': ['operator'] } },
      on: { 'operator.retry': 'releasing' },
    },
    ordered: { type: 'final' },
    failed: { type: 'final' },
  },
});

describe('a hand-written statechart with a compensating exit', () => {
  it('releases the reservation when the charge fails', () => {
    const d = new Drive(orderMachine, { sku: 'onu-g240' });
    d.send(done('reserve', { reservationId: 'res_1' })).send(fail('charge', 'card expired'));
    expect(d.snapshot.value).toBe('releasing');
    expect(d.started.at(-1)).toEqual({ id: 'compensate.reserve', src: 'releaseStock', input: { reservationId: 'res_1' } });
    d.send(done('compensate.reserve'));
    expect(d.snapshot.value).toBe('failed');
  });

  it('waits for an operator when the release keeps failing', () => {
    const d = new Drive(orderMachine, { sku: 'onu-g240' });
    d.send(done('reserve', { reservationId: 'res_1' }))
      .send(fail('charge'))
      .send(fail('compensate.reserve'));
    expect(d.snapshot.hasTag('compensation_failed')).toBe(true);
    d.send({ type: 'operator.retry' });
    expect(d.startedIds.filter((id) => id === 'compensate.reserve')).toHaveLength(2);
  });

  it('replays its shortest paths and restores each reached state from JSON', () => {
    const outputs = { reserve: { reservationId: 'res_1' }, charge: { paymentId: 'pay_1' } };
    expect(replayShortestPaths(orderMachine, { sku: 'x' }, childEvents(outputs, [{ type: 'operator.retry' }]))).toBe(7);
  });
});
