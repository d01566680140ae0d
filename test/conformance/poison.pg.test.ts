import { describe, expect, test } from 'vitest';
import { greetingSteps } from '../../actors/greeting-steps.ts';
import { greetingMachine } from '../../machines/greeting.machine.ts';
import { createSimulation } from '../../runtime/testing/index.ts';
import { pgStoreFactory } from '../support/pg-store.ts';

/**
 * Regression (one request used to kill the server for good): the greeting
 * started with `reminderAfterMs: "abc"` looped inside `transition()`, and the
 * pending step result was resumed and looped again on every start. Now the
 * instance ends in `error`, the runtime restarts on the same database and
 * serves other instances.
 */
const makeStore = pgStoreFactory();

describe('a poison instance on PostgreSQL', () => {
  test('ends in error, is skipped after a restart, and never stops the runtime serving others', async () => {
    const store = await makeStore();
    const open = () =>
      createSimulation({ machines: [{ machine: greetingMachine, options: { version: '1' } }], steps: greetingSteps, store });
    let sim = await open();
    const poison = await sim.runtime.start({ machine: 'greeting', input: { name: 'x', reminderAfterMs: 'abc' } });
    await sim.settle();
    expect((await sim.runtime.get(poison.id)).status).toBe('error');
    await sim.runtime.close();

    sim = await open();
    const after = await sim.runtime.get(poison.id);
    expect(after).toMatchObject({ status: 'error', value: 'composing' });
    expect((after.error as { message: string }).message).toContain('with a delay of "abc"');
    expect((await sim.runtime.effects(poison.id)).every((e) => e.status !== 'pending')).toBe(true);
    const healthy = await sim.runtime.start({ machine: 'greeting', input: { name: 'y' } });
    await sim.settle();
    await sim.runtime.send(healthy.id, { type: 'greeting.confirm' });
    expect((await sim.runtime.get(healthy.id)).status).toBe('done');
    await sim.runtime.close();
  });
});
