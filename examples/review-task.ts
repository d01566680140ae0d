import { assign, setup } from 'xstate';

// A state that waits for a person: its task is opened when the state is entered and closed when it is left.
export const review = setup({
  types: { context: {} as { approved: boolean | null }, events: {} as { type: 'review.decide'; answer: { approved: boolean } } },
}).createMachine({
  id: 'review',
  context: { approved: null },
  initial: 'review',
  states: {
    review: {
      meta: {
        task: {
          title: 'Review the draft',
          role: 'reviewer', // or roles: [...]; or assignee: '<caller id>'
          event: 'review.decide', // the event completing it (the state must handle it)
          form: { type: 'object', properties: { approved: { type: 'boolean' } }, required: ['approved'] }, // JSON Schema
          deadline: { after: 86_400_000 }, // a key of this state's `after`: its timer is the due time, its transition the escalation
        },
      },
      on: { 'review.decide': { target: 'decided', actions: assign({ approved: ({ event }) => event.answer.approved }) } },
      after: { 86_400_000: 'escalated' },
    },
    decided: { type: 'final' },
    escalated: { type: 'final' },
  },
});
