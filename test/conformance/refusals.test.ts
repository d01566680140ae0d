import { setup } from 'xstate';
import { describe, expect, test } from 'vitest';
import { RuntimeError } from '../../runtime/errors.ts';
import { step } from '../../runtime/step.ts';
import { createSimulation } from '../../runtime/testing/index.ts';
import { MemoryStore } from '../../runtime/memory-store.ts';
import { createRuntime } from '../../runtime/runtime.ts';
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

  test('register() lists every step a machine and its child machines lack, and registers nothing', async () => {
    const child = setup({ actors: { notify: step() } }).createMachine({
      id: 'needs-steps-child',
      initial: 'a',
      states: { a: { invoke: { src: 'notify' } } },
    });
    const m = setup({ actors: { charge: step(), ship: step(), child } }).createMachine({
      id: 'needs-steps',
      initial: 'a',
      states: {
        a: { invoke: { src: 'charge', onDone: 'b' } },
        b: { invoke: { src: 'ship', onDone: 'c' } },
        c: { invoke: { src: 'child' } },
      },
    });
    const sim = await createSimulation();
    let error: RuntimeError | undefined;
    try {
      sim.runtime.register(m, { version: '1', steps: { charge: async () => 1 } });
    } catch (e) {
      error = e as RuntimeError;
    }
    expect(error).toMatchObject({ code: 'step_not_registered', details: { missing: ['needs-steps@1: ship', 'needs-steps@1: notify'] } });
    expect(sim.runtime.registry.list()).toEqual([]);
    expect(sim.runtime.registry.step('charge')).toBeUndefined();
    // With every step it registers.
    sim.runtime.register(m, { version: '1', steps: { charge: async () => 1, ship: async () => 2, notify: async () => 3 } });
    expect(sim.runtime.registry.list().map((r) => r.ref)).toEqual(['needs-steps@1', 'needs-steps-child@1']);
  });

  test('createRuntime lists the missing steps of every machine at once and registers none', async () => {
    const a = setup({ actors: { one: step() } }).createMachine({
      id: 'needs-one',
      initial: 'a',
      states: { a: { invoke: { src: 'one' } } },
    });
    const b = setup({ actors: { two: step(), three: step() } }).createMachine({
      id: 'needs-two',
      initial: 'a',
      states: { a: { invoke: [{ src: 'two' }, { src: 'three' }] } },
    });
    const machines = [a, b].map((machine) => ({ machine, options: { version: '1' } }));
    await expect(createRuntime({ store: new MemoryStore(), machines, steps: { three: async () => 3 } })).rejects.toMatchObject({
      code: 'step_not_registered',
      details: { missing: ['needs-one@1: one', 'needs-two@1: two'] },
    });
    const ok = await createRuntime({
      store: new MemoryStore(),
      machines,
      steps: { one: async () => 1, two: async () => 2, three: async () => 3 },
    });
    expect(ok.registry.list()).toHaveLength(2);
    await ok.close();
  });

  test('a machine without an id is refused (kept)', async () => {
    const sim = await createSimulation();
    expect(() => sim.runtime.register(setup({}).createMachine({}), { version: '1' })).toThrow(
      expect.objectContaining({ code: 'invalid_argument' }),
    );
  });
});
