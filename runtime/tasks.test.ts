import { describe, expect, test } from 'vitest';
import { setup } from 'xstate';
import { review } from '../examples/review-task.ts';
import { taskSuite } from '../test/task-suite.ts';
import { MemoryStore } from './memory-store.ts';
import { Runtime } from './runtime.ts';

taskSuite('memory', async () => new MemoryStore());

describe('task declarations are checked when a machine is registered', () => {
  const register = (task: unknown, extra: object = {}) =>
    new Runtime({ store: new MemoryStore() }).register(
      setup({}).createMachine({ id: 'm', initial: 'a', states: { a: { meta: { task }, on: { go: 'b' }, ...extra }, b: {} } }),
      { version: '1' },
    );
  test.each([
    [{ event: 'go' }, /meta.task.title is a non-empty string/],
    [{ title: 'T', event: 'nope' }, /meta.task.event "nope" is not handled by state "m.a"/],
    [{ title: 'T', event: 'go', role: 'has space' }, /meta.task.role is a role name/],
    [{ title: 'T', event: 'go', form: { type: 'objekt' } }, /meta.task.form is not a valid JSON Schema/],
    [{ title: 'T', event: 'go', deadline: { after: 5 } }, /meta.task.deadline.after "5" is not a delay of state "m.a"/],
    [{ title: 'T', event: 'go', colour: 'red' }, /meta.task.colour is not a task property/],
  ])('%j is refused', (task, message) => {
    expect(() => register(task)).toThrow(message);
  });
  test('the README example registers', () => {
    expect(new Runtime({ store: new MemoryStore() }).register(review, { version: '1' }).ref).toBe('review@1');
  });

  test('a well-formed task registers', () => {
    expect(register({ title: 'T', event: 'go', roles: ['a', 'b'], deadline: { after: 5000 } }, { after: { 5000: 'b' } }).ref).toBe('m@1');
  });
});
