import type { StepImplementation } from '../runtime/step-types.ts';

/** Steps of the greeting example (pure computation: safe to repeat). */
export const greetingSteps: Record<string, StepImplementation> = {
  composeGreeting: { run: async (input: { name: string }) => ({ message: `Hello, ${input.name}!` }) },
};
