import { assign, setup } from 'xstate';
import { z } from 'zod';
import { step } from '../runtime/step.ts';

/** Input of the greeting example. */
export interface GreetingInput {
  name: string;
  /** How long to wait for `greeting.confirm` before sending a reminder (default 1 h). */
  reminderAfterMs?: number;
}

/** What `greeting` accepts as input: a name, and a reminder delay of 1 s to 30 days. */
export const GreetingInputSchema = z
  .object({
    name: z.string().min(1).max(200),
    reminderAfterMs: z
      .number()
      .int()
      .min(1_000)
      .max(30 * 86_400_000)
      .optional(),
  })
  .strict();

/**
 * The small example bundled with `npm start`: one step, a wait for an event
 * with a durable reminder timer, and a final state.
 */
export const greetingMachine = setup({
  types: {
    input: {} as GreetingInput,
    context: {} as { name: string; message?: string; reminders: number; reminderAfterMs: number },
    events: {} as { type: 'greeting.confirm' } | { type: 'greeting.cancel' },
  },
  actors: { composeGreeting: step<{ name: string }, { message: string }>({ maxAttempts: 3, timeoutMs: 5_000 }) },
  delays: { reminder: ({ context }) => context.reminderAfterMs },
}).createMachine({
  id: 'greeting',
  description: 'Composes a greeting, waits for confirmation with a reminder timer.',
  context: ({ input }) => ({ name: input.name, reminders: 0, reminderAfterMs: input.reminderAfterMs ?? 3_600_000 }),
  initial: 'composing',
  states: {
    composing: {
      invoke: {
        id: 'compose',
        src: 'composeGreeting',
        input: ({ context }) => ({ name: context.name }),
        onDone: { target: 'awaitingConfirmation', actions: assign({ message: ({ event }) => event.output.message }) },
        onError: 'failed',
      },
    },
    awaitingConfirmation: {
      tags: ['waiting'],
      after: {
        reminder: { target: 'awaitingConfirmation', reenter: true, actions: assign({ reminders: ({ context }) => context.reminders + 1 }) },
      },
      on: { 'greeting.confirm': 'confirmed', 'greeting.cancel': 'cancelled' },
    },
    confirmed: { type: 'final' },
    cancelled: { type: 'final' },
    failed: { type: 'final' },
  },
  output: ({ context }) => ({ message: context.message, reminders: context.reminders }),
});
