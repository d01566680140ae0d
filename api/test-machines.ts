/** Machines for the API tests: roles in `meta.roles`, sensitive context, retry and cancel paths. */
import { z } from '@hono/zod-openapi';
import { assign, setup } from 'xstate';
import { step } from '../machines/step.ts';
import type { MachineInfoMap } from './machine-info.ts';

/** Input of {@link payoutMachine}: holds fields that must be redacted. */
export interface PayoutInput {
  amount: number;
  cardNumber: string;
  owner: { name: string; password: string };
}

/**
 * Charges (a step), then waits for a `finance` approval; a failed charge waits
 * for `operator.retry`; `workflow.cancel` is accepted while waiting.
 */
export const payoutMachine = setup({
  types: {
    input: {} as PayoutInput,
    context: {} as PayoutInput & { notes: string[]; receipt?: unknown },
    events: {} as { type: 'payout.approve' } | { type: 'payout.note'; text: string } | { type: 'operator.retry' } | { type: 'workflow.cancel'; reason?: string },
  },
  actors: { charge: step<{ amount: number; apiToken: string }, { receipt: string; token: string }>({ maxAttempts: 1 }) },
}).createMachine({
  id: 'payout',
  description: 'Charge, then wait for a finance approval.',
  context: ({ input }) => ({ ...input, notes: [] }),
  initial: 'charging',
  states: {
    charging: {
      invoke: {
        id: 'charge',
        src: 'charge',
        input: ({ context }) => ({ amount: context.amount, apiToken: 'tok_live_123' }),
        onDone: { target: 'review', actions: assign({ receipt: ({ event }) => event.output }) },
        onError: 'chargeFailed',
      },
    },
    chargeFailed: { meta: { roles: { 'operator.retry': ['operator'] } }, on: { 'operator.retry': 'charging', 'workflow.cancel': 'cancelled' } },
    review: {
      tags: ['waiting'],
      meta: { roles: { 'payout.approve': ['finance'] } },
      on: {
        'payout.approve': 'approved',
        'payout.note': { actions: assign({ notes: ({ context, event }) => [...context.notes, event.text] }) },
        'workflow.cancel': 'cancelled',
      },
    },
    approved: { type: 'final' },
    cancelled: { type: 'final' },
  },
  output: ({ context }) => ({ approved: true, amount: context.amount }),
});

/** Input schema of `payout` (strict: unknown fields are refused). */
export const payoutInfo: MachineInfoMap = {
  payout: {
    inputSchema: z
      .object({ amount: z.number().positive(), cardNumber: z.string().min(4), owner: z.object({ name: z.string(), password: z.string() }).strict() })
      .strict(),
  },
};

/** A valid payout input. */
export const payoutInput = (amount = 10): PayoutInput => ({ amount, cardNumber: '4111111111111111', owner: { name: 'Ada', password: 'hunter2' } });
