/**
 * Cases that still diverge, by name, with the divergence. Each runs as
 * `test.fails` (so it is noticed the moment it starts passing) until fixed.
 */
export const PENDING: Readonly<Record<string, string>> = {
  'action.sendTo-self': 'sendTo(({ self }) => self) is planned as a send to a child and dropped',
  'actor.fromPromise-rejection': 'the rejected value reaches onError as { name, message, attempts }',
  'actor.inline-child-machine': 'an inline child machine is treated as an unregistered step',
  'actor.fromPromise-undefined-output': 'a step resolving undefined reaches onDone with null',
  'delay.sendTo': 'a delayed sendTo self is dropped',
};
