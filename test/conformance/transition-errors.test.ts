import { assign, raise, setup, spawnChild } from 'xstate';
import { describe, expect, test } from 'vitest';
import { greetingSteps } from '../../actors/greeting-steps.ts';
import { GreetingInputSchema, greetingMachine } from '../../machines/greeting.machine.ts';
import { createSimulation } from '../../runtime/testing/index.ts';

/**
 * Regressions: an exception or a loop inside a transition ends the instance
 * in `error` with the reason, committed like any transition, instead of
 * escaping `send()`, looping forever or leaving a timer to fire again.
 */

const version = { version: '1' };

describe('a transition that throws or loops', () => {
  test('greeting with reminderAfterMs "abc" ends in error (it looped forever inside transition()); others still run', async () => {
    const sim = await createSimulation({ machines: [{ machine: greetingMachine, options: version }], steps: greetingSteps });
    const poison = await sim.runtime.start({ machine: 'greeting', input: { name: 'x', reminderAfterMs: 'abc' } });
    await sim.settle();
    const v = await sim.runtime.get(poison.id);
    expect(v.status).toBe('error');
    expect(v.value).toBe('composing');
    expect((v.error as { message: string }).message).toMatch(/delay of "abc"/);
    const effects = await sim.runtime.effects(poison.id);
    expect(effects.map((e) => [e.kind, e.status])).toEqual([['step', 'done']]);
    const healthy = await sim.runtime.start({ machine: 'greeting', input: { name: 'y' } });
    await sim.settle();
    await sim.runtime.send(healthy.id, { type: 'greeting.confirm' });
    expect((await sim.runtime.get(healthy.id)).status).toBe('done');
  });

  test('greeting declares its input schema: a non-number delay is refused before anything starts', () => {
    expect(GreetingInputSchema.safeParse({ name: 'x', reminderAfterMs: 'abc' }).success).toBe(false);
    expect(GreetingInputSchema.safeParse({ name: 'x', reminderAfterMs: 1e308 }).success).toBe(false);
    expect(GreetingInputSchema.safeParse({ name: 'x', reminderAfterMs: 60_000 }).success).toBe(true);
  });

  test('a cycle of always transitions is stopped at the microstep bound', async () => {
    const cycle = setup({}).createMachine({
      id: 'cycle',
      initial: 'idle',
      states: { idle: { on: { go: 'a' } }, a: { always: 'b' }, b: { always: 'a' } },
    });
    const sim = await createSimulation({ machines: [{ machine: cycle, options: version }] });
    const { id } = await sim.runtime.start({ machine: 'cycle' });
    const res = await sim.runtime.send(id, { type: 'go' });
    expect(res.status).toBe('error');
    const v = await sim.runtime.get(id);
    expect(v.value).toBe('idle');
    expect(v.error).toMatchObject({ message: expect.stringMatching(/more than 1000 microsteps/), details: { eventType: 'go' } });
  });

  test('a raise loop at start ends the new instance in error instead of hanging start()', async () => {
    const loop = setup({}).createMachine({
      id: 'raise-loop',
      initial: 'a',
      states: { a: { entry: raise({ type: 'again' }), on: { again: { target: 'a', reenter: true } } } },
    });
    const sim = await createSimulation({ machines: [{ machine: loop, options: version }] });
    const started = await sim.runtime.start({ machine: 'raise-loop' });
    expect(started.status).toBe('error');
    expect(started.created).toBe(true);
  });

  test('a throwing action on a timer closes the timer: it does not fire again', async () => {
    const m = setup({}).createMachine({
      id: 'timer-throws',
      initial: 'waiting',
      states: {
        waiting: {
          after: {
            1000: {
              target: 'done',
              actions: assign(() => {
                throw new Error('timer action failed');
              }),
            },
          },
        },
        done: {},
      },
    });
    const sim = await createSimulation({ machines: [{ machine: m, options: version }] });
    const { id } = await sim.runtime.start({ machine: 'timer-throws' });
    await sim.advance(1000);
    const v = await sim.runtime.get(id);
    expect(v.status).toBe('error');
    expect(v.error).toMatchObject({ message: 'timer action failed' });
    expect((await sim.runtime.effects(id)).map((e) => [e.kind, e.status])).toEqual([['timer', 'done']]);
    const seqs = (await sim.runtime.history(id)).length;
    await sim.advance(10_000);
    expect((await sim.runtime.history(id)).length).toBe(seqs);
  });

  test('spawn() inside assign that registration cannot see ends the instance in error with what to write instead', async () => {
    const child = setup({}).createMachine({ id: 'spawned-child' });
    // Through a helper, the assignment's own source does not show the spawn (a plain one is refused at registration).
    const start = (args: { spawn: (src: 'child') => unknown }) => args.spawn('child');
    const m = setup({ actors: { child } }).createMachine({
      id: 'spawner',
      context: { ref: null as unknown },
      on: { spawn: { actions: assign({ ref: (args) => start(args as never) }) }, ping: {} },
    });
    const sim = await createSimulation({ machines: [{ machine: m, options: version }] });
    const { id } = await sim.runtime.start({ machine: 'spawner' });
    await sim.runtime.send(id, { type: 'spawn' });
    const v = await sim.runtime.get(id);
    expect(v.status).toBe('error');
    expect((v.error as { message: string }).message).toMatch(/spawn\(\) inside assign\(\).*spawnChild/);
    expect((await sim.runtime.describe(id)).status).toBe('error');
  });

  test('a value that would not survive storage ends the transition in error, naming its path (simulation as strict as pg)', async () => {
    const m = setup({}).createMachine({
      id: 'stores-a-map',
      context: { tags: null as unknown },
      on: { set: { actions: assign({ tags: () => ({ list: [new Map([['a', 1]])] }) }) } },
    });
    const sim = await createSimulation({ machines: [{ machine: m, options: version }] });
    const { id } = await sim.runtime.start({ machine: 'stores-a-map' });
    await sim.runtime.send(id, { type: 'set' });
    const v = await sim.runtime.get(id);
    expect(v.status).toBe('error');
    expect(v.error).toMatchObject({ message: expect.stringContaining('context.tags.list[0] is an instance of Map') });
  });

  test('the context factory runs once, at start, not on every event', async () => {
    let calls = 0;
    const m = setup({}).createMachine({
      id: 'counted-factory',
      context: () => ({ made: ++calls }),
      initial: 'a',
      states: { a: { on: { next: 'b' } }, b: { on: { next: 'a' } } },
    });
    const sim = await createSimulation({ machines: [{ machine: m, options: version }] });
    const { id } = await sim.runtime.start({ machine: 'counted-factory' });
    for (let i = 0; i < 5; i++) await sim.runtime.send(id, { type: 'next' });
    expect(calls).toBe(1);
    expect((await sim.runtime.get(id)).context).toEqual({ made: 1 });
  });

  test('spawnChild of a registered child runs the child as an instance', async () => {
    const child = setup({}).createMachine({
      id: 'spawned-worker',
      initial: 'a',
      states: { a: { on: { stop: 'b' } }, b: { type: 'final' } },
    });
    const m = setup({ actors: { child } }).createMachine({
      id: 'spawn-child-parent',
      on: { start: { actions: spawnChild('child', { id: 'w' }) } },
    });
    const sim = await createSimulation({ machines: [{ machine: m, options: version }] });
    const { id } = await sim.runtime.start({ machine: 'spawn-child-parent' });
    await sim.runtime.send(id, { type: 'start' });
    await sim.settle();
    const children = await sim.runtime.list({ parentId: id });
    expect(children.items.map((c) => c.machine.id)).toEqual(['spawned-worker']);
  });
});
