import { setup } from 'xstate';
import { describe, expect, test } from 'vitest';
import { RuntimeError } from '../../runtime/errors.ts';
import { step } from '../../runtime/step.ts';
import { createSimulation } from '../../runtime/testing/index.ts';
import { refusedCases } from './cases/refused.ts';

/**
 * Each refused feature: registration throws `unsupported_machine` naming the
 * machine, the state and the feature, says what to write instead, and
 * registers nothing.
 */
describe('features refused at registration', () => {
  for (const c of refusedCases) {
    test(c.name, async () => {
      const sim = await createSimulation();
      let error: unknown;
      try {
        sim.runtime.register(c.machine, { version: '1' });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(RuntimeError);
      expect((error as RuntimeError).code).toBe('unsupported_machine');
      for (const words of c.mentions) expect((error as Error).message).toContain(words);
      expect(sim.runtime.registry.list()).toEqual([]);
    });
  }

  test('custom actions and log are accepted when the registration opts in (they are not executed)', async () => {
    const sim = await createSimulation();
    for (const c of refusedCases.filter((r) => /custom-action|\.log$/.test(r.name))) {
      expect(() => sim.runtime.register(c.machine, { version: '1', allowCustomActions: true })).not.toThrow();
    }
  });

  test('a step actor without an implementation is listed when the runtime is created, not when an instance reaches it', async () => {
    const m = setup({ actors: { charge: step(), ship: step() } }).createMachine({
      id: 'needs-steps',
      initial: 'a',
      states: { a: { invoke: { src: 'charge', onDone: 'b' } }, b: { invoke: { src: 'ship' } } },
    });
    const created = createSimulation({ machines: [{ machine: m, options: { version: '1' } }], steps: { charge: async () => 1 } });
    await expect(created).rejects.toMatchObject({ code: 'step_not_registered', message: expect.stringContaining('needs-steps@1: ship') });
  });

  test('a machine without an id is refused (kept)', async () => {
    const sim = await createSimulation();
    expect(() => sim.runtime.register(setup({}).createMachine({}), { version: '1' })).toThrow(
      expect.objectContaining({ code: 'invalid_argument' }),
    );
  });
});
