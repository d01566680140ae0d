/**
 * Children from configuration, on the in-memory store and on Postgres: a
 * phase of a YAML workflow invokes a registered machine (a saga) as a child
 * instance with input mapped from the parent's context and its output kept;
 * cancelling the parent cancels the running child, which compensates.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { setup } from 'xstate';
import { createCatalog, DefinitionService, MemoryDefinitionStore } from '../definitions/index.ts';
import type { InstanceStore } from '../runtime/ports.ts';
import { createSimulation } from '../runtime/testing/index.ts';
import { defineSaga } from '../sagas/index.ts';

const yaml = readFileSync(new URL('./fixtures/phases/fulfilment.yaml', import.meta.url), 'utf8');

/** The child: reserve stock, then charge; each undone in reverse when cancelled. */
const provisionOrder = defineSaga<{ sku: string; qty: number }, { reserve: { reservationId: string }; charge: { paymentId: string } }>({
  id: 'provision-order',
  steps: [
    { name: 'reserve', action: 'reserveStock', compensation: 'releaseStock', input: ({ input }) => input },
    { name: 'charge', action: 'chargeCard', compensation: 'refundCard', input: ({ input }) => ({ amount: input.qty * 10 }) },
  ],
});

/** A child without a cancel event: stopped with its parent. */
const plainChild = setup({}).createMachine({
  id: 'provision-order',
  initial: 'waiting',
  states: { waiting: { on: { go: 'done' } }, done: { type: 'final', output: { ok: true } } },
});

/** Runs the children contract on stores from `makeStore`. */
export function childSuite(name: string, makeStore: () => Promise<InstanceStore>): void {
  describe(`children from configuration (${name})`, () => {
    const open = async (child = provisionOrder as never, gate?: Promise<void>) => {
      const calls: string[] = [];
      const record = (n: string, out: object) => async (input: unknown) => (calls.push(`${n} ${JSON.stringify(input)}`), out);
      const sim = await createSimulation({
        store: await makeStore(),
        machines: [{ machine: child, options: { version: '1' } }],
        steps: {
          reserveStock: record('reserveStock', { reservationId: 'res-1' }),
          releaseStock: record('releaseStock', {}),
          chargeCard: async (input: unknown) => {
            await gate;
            calls.push(`chargeCard ${JSON.stringify(input)}`);
            return { paymentId: 'pay-1' };
          },
          refundCard: record('refundCard', {}),
        },
      });
      await new DefinitionService(sim.runtime, createCatalog(), new MemoryDefinitionStore()).registerPhases(yaml);
      const { id } = await sim.runtime.start({ machine: 'fulfilment', input: { sku: 'A-1', qty: 3 } });
      const childId = async () => (await sim.runtime.list({ parentId: id })).items[0]?.id;
      return { sim, rt: sim.runtime, id, calls, childId };
    };

    test('the child gets its input from the parent context; its output comes back into the phase', async () => {
      const { sim, rt, id, calls, childId } = await open();
      await sim.settle();
      const child = await rt.get((await childId())!);
      expect([child.status, child.parentId, child.machine.id]).toEqual(['done', id, 'provision-order']);
      expect(calls).toEqual(['reserveStock {"sku":"A-1","qty":3}', 'chargeCard {"amount":30}']);
      const parent = await rt.get(id);
      const prepare = (parent.context as { phases: Record<string, { answers: Record<string, any> }> }).phases.prepare!;
      expect(prepare.answers.provision).toMatchObject({ outcome: 'completed' });
      expect((await rt.tasks.list()).items.map((t) => t.title)).toEqual(['Confirm the order']);
    });

    test('cancelling the parent cancels the running child, which compensates what it did in reverse', async () => {
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const { rt, id, calls, childId } = await open(provisionOrder as never, gate);
      // The child has reserved stock and is charging the card.
      const cid = await rt.waitUntil(async () => {
        const c = await childId();
        return c && calls.includes('reserveStock {"sku":"A-1","qty":3}') ? c : undefined;
      });
      expect(cid).toBeDefined();
      const cancelled = await rt.cancel(id, { reason: 'customer withdrew' });
      expect(cancelled.status).toBe('stopped');
      // The child is told (its cancel follows the parent's commit); then the charge in flight finishes,
      // and the saga undoes the charge and the reservation.
      await rt.waitUntil(async () => ((await rt.history(cid!)).some((e) => e.type === 'workflow.cancel') ? true : undefined));
      release();
      const child = await rt.waitFor(cid!, (v) => v.status !== 'active');
      expect(child.output).toMatchObject({ outcome: 'cancelled' });
      expect(calls.slice(2)).toEqual([expect.stringMatching(/^refundCard/), expect.stringMatching(/^releaseStock/)]);
      const history = await rt.history(cid!);
      expect(history.find((e) => e.type === 'workflow.cancel')).toMatchObject({
        source: 'operator',
        payload: { reason: 'parent stopped' },
      });
      expect((await rt.get(id)).status).toBe('stopped');
    });

    test('a child machine without a cancel event is stopped with its parent', async () => {
      const { sim, rt, id, childId } = await open(plainChild as never);
      await sim.settle();
      const cid = (await childId())!;
      expect((await rt.get(cid)).status).toBe('active');
      await rt.cancel(id);
      const child = await rt.waitFor(cid, (v) => v.status !== 'active');
      expect(child.status).toBe('stopped');
    });
  });
}
