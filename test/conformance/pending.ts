/**
 * Cases that still diverge, by name, with the divergence. Each runs as
 * `test.fails` (so it is noticed the moment it starts passing) until fixed.
 */
export const PENDING: Readonly<Record<string, string>> = {
  'actor.fromPromise-rejection': 'the rejected value reaches onError as { name, message, attempts }',
  'actor.fromPromise-undefined-output': 'a step resolving undefined reaches onDone with null',
  'delay.sendTo':
    'two delayed sends with the same id both fire in XState; the runtime arms only the last one in memory (the first waits for a restart)',
};
