/**
 * Cases that still diverge, by name, with the divergence. Each runs as
 * `test.fails` (so it is noticed the moment it starts passing) until fixed.
 */
export const PENDING: Readonly<Record<string, string>> = {
  'action.spawnChild': 'sendTo a spawned child that does not exist throws out of send() instead of putting the instance in error',
  'action.sendTo-self': 'sendTo(({ self }) => self) is planned as a send to a child and dropped',
  'actor.fromPromise': 'fromPromise logic without a registered step ends the instance in error',
  'actor.fromPromise-rejection': 'the rejected value reaches onError as { name, message, attempts }',
  'actor.inline-child-machine': 'an inline child machine is treated as an unregistered step',
  'actor.inline-fromPromise': 'inline fromPromise is treated as an unregistered step',
  'actor.fromPromise-undefined-output': 'a step resolving undefined reaches onDone with null',
  'delay.sendTo': 'a delayed sendTo self is dropped',
  'error.guard': 'a throwing guard escapes send() and leaves the instance active',
  'error.action': 'a throwing action escapes send() and leaves the instance active',
  'error.output': 'a throwing output escapes send() and leaves the instance active',
  'error.timer-action': 'a throwing action on a timer leaves the timer open and the instance active',
};
