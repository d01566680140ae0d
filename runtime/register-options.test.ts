import { describe, expect, test } from 'vitest';
import { assign, setup } from 'xstate';
import { z } from 'zod';
import { createSimulation } from './testing/index.ts';
import type { StandardSchemaV1 } from './standard-schema.ts';
import { RuntimeError } from './errors.ts';
import { MemoryStore } from './memory-store.ts';

// A machine with its own names for the operator commands.
const order = setup({
  types: {
    context: {} as { retried: number; cancelReason: string | null },
    events: {} as { type: 'order.abort'; reason?: string } | { type: 'order.again' },
  },
}).createMachine({
  id: 'order',
  context: { retried: 0, cancelReason: null },
  initial: 'waiting',
  states: {
    waiting: {
      on: {
        'order.again': { actions: assign({ retried: ({ context }) => context.retried + 1 }) },
        'order.abort': { target: 'aborted', actions: assign({ cancelReason: ({ event }) => event.reason ?? null }) },
      },
    },
    aborted: { type: 'final' },
  },
});

const plain = setup({}).createMachine({ id: 'plain', initial: 'idle', states: { idle: { on: { go: 'done' } }, done: { type: 'final' } } });

/** A Standard Schema written by hand: not zod, so the runtime must rely on the interface alone. */
const positiveAmount: StandardSchemaV1<{ amount: number }> = {
  '~standard': {
    version: 1,
    vendor: 'test',
    validate: (v) =>
      typeof (v as { amount?: unknown })?.amount === 'number' && (v as { amount: number }).amount > 0
        ? { value: v as { amount: number } }
        : { issues: [{ message: 'must be a positive number', path: [{ key: 'amount' }] }] },
  },
};

describe('registration options', () => {
  test('a start input failing the registered schema is refused with every issue and creates nothing (any Standard Schema)', async () => {
    const store = new MemoryStore();
    const sim = await createSimulation({
      store,
      machines: [
        { machine: plain, options: { version: '1', inputSchema: positiveAmount } },
        { machine: order, options: { version: '1', inputSchema: z.object({ sku: z.string(), qty: z.number().int() }).strict() } },
      ],
    });
    const err = await sim.runtime.start({ machine: 'plain', input: { amount: -1 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RuntimeError);
    expect(err).toMatchObject({
      code: 'input_invalid',
      details: { machine: 'plain@1', issues: [{ path: 'amount', message: 'must be a positive number' }] },
    });
    const zodErr = await sim.runtime.start({ machine: 'order', input: { sku: 1, qty: 1.5, extra: true } }).catch((e: unknown) => e);
    expect((zodErr as RuntimeError).details?.issues).toHaveLength(3);
    expect((await sim.runtime.list({})).items).toHaveLength(0);
    // Valid input goes through and is stored as given.
    const { id } = await sim.runtime.start({ machine: 'plain', input: { amount: 5 } });
    expect((await sim.runtime.get(id)).status).toBe('active');
  });

  test('cancel and retry send the events a registration maps them to', async () => {
    const sim = await createSimulation({
      machines: [{ machine: order, options: { version: '1', operatorEvents: { cancel: 'order.abort', retry: 'order.again' } } }],
    });
    const a = await sim.runtime.start({ machine: 'order' });
    expect((await sim.runtime.retry(a.id)).handled).toBe(true);
    const cancelled = await sim.runtime.cancel(a.id, { reason: 'customer asked' });
    expect(cancelled.value).toBe('aborted');
    expect(cancelled.context).toEqual({ retried: 1, cancelReason: 'customer asked' });
    expect((await sim.runtime.history(a.id)).map((e) => e.type)).toEqual(['xstate.init', 'order.again', 'order.abort']);
  });

  test('without a mapping, cancel stops a machine that does not know workflow.cancel', async () => {
    const sim = await createSimulation({ machines: [{ machine: order, options: { version: '1' } }] });
    const a = await sim.runtime.start({ machine: 'order' });
    expect((await sim.runtime.retry(a.id)).handled).toBe(false);
    expect((await sim.runtime.cancel(a.id)).status).toBe('stopped');
  });

  test('a registered step view decides the steps the API shows', async () => {
    const sim = await createSimulation({
      machines: [
        {
          machine: plain,
          options: {
            version: '1',
            stepView: (_m, snapshot) => [
              {
                step: `at ${String(snapshot.value)}`,
                status: 'pending',
                attempts: 0,
                compensationAttempts: 0,
                error: null,
                lastError: null,
                startedAt: null,
                finishedAt: null,
                output: null,
                compensation: null,
                resolution: null,
              },
            ],
          },
        },
      ],
    });
    const { id } = await sim.runtime.start({ machine: 'plain' });
    expect((await sim.runtime.describe(id)).steps.map((s) => s.step)).toEqual(['at idle']);
  });

  test('option values that would only fail later are refused at registration', async () => {
    const sim = await createSimulation();
    const bad = [
      { inputSchema: z.string().parse },
      { inputSchema: { '~standard': { version: 2, validate: () => ({ value: 1 }) } } },
      { stepView: 'saga' },
      { operatorEvents: { cancel: '' } },
      { operatorEvents: { stop: 'x' } },
      { operatorEvents: { retry: 'xstate.done' } },
    ];
    for (const options of bad) {
      expect(() => sim.runtime.register(plain, { version: '1', ...(options as object) })).toThrow(/register/);
    }
    expect(sim.runtime.registry.list()).toHaveLength(0);
  });
});
