import { describe, expect, test } from 'vitest';
import type { InstanceStore } from '../runtime/ports.ts';
import type { StepContext } from '../runtime/step-types.ts';
import { createSimulation, type Simulation } from '../runtime/testing/index.ts';
import { orderContextSchema, orderFlowV1, orderFlowV2, orderFlowV3 } from './fixtures/versioned-machines.ts';
import { eventually } from './support/poll.ts';

const operator = { id: 'ops:ana', roles: ['operator'] };
const START = Date.UTC(2030, 0, 1);
/** Lets in-flight commits run without waiting for the steps the tests hold open. */
const idle = () => new Promise<void>((r) => setImmediate(r));

/** Steps that answer only when a test releases them; every call is counted. */
function heldSteps() {
  const held = new Map<string, { resolve: (v: unknown) => void; signal: AbortSignal }>();
  const calls: string[] = [];
  const step = (name: string) => (_input: unknown, ctx: StepContext) => {
    calls.push(`${ctx.instanceId}:${name}`);
    return new Promise((resolve) => held.set(`${ctx.instanceId}:${name}`, { resolve, signal: ctx.signal }));
  };
  return {
    steps: { charge: step('charge'), notify: step('notify'), audit: step('audit') },
    calls: (id: string, name: string) => calls.filter((c) => c === `${id}:${name}`).length,
    running: (id: string, name: string) => eventually(async () => held.get(`${id}:${name}`), `${name} of ${id} to run`),
    async release(id: string, name: string, value: unknown) {
      (await this.running(id, name)).resolve(value);
    },
  };
}

async function setUp(makeStore: () => Promise<InstanceStore>) {
  const held = heldSteps();
  const sim = await createSimulation({
    store: await makeStore(),
    machines: [{ machine: orderFlowV1, options: { version: '1' } }],
    steps: held.steps,
  });
  return { sim, held };
}

/** Everything stored about an instance, as text: a refused migration must leave it byte for byte. */
async function stored(sim: Simulation, id: string): Promise<string> {
  const [record, effects, history] = await Promise.all([sim.store.get(id), sim.store.effects(id), sim.store.history(id, 0, 1000)]);
  return JSON.stringify({ record, effects, history });
}

async function waitValue(sim: Simulation, id: string, value: unknown) {
  return sim.runtime.waitFor(id, (v) => JSON.stringify(v.value) === JSON.stringify(value), 30_000);
}

/** Versions side by side and migrations, on every store: `runtime/migration.test.ts` (memory), `test/migration.pg.test.ts`. */
export function migrationSuite(name: string, makeStore: () => Promise<InstanceStore>) {
  describe(`versions and migration on ${name}`, () => {
    test('registering v2 leaves running v1 instances on v1; new starts take v2 unless v1 is named', async () => {
      const { sim, held } = await setUp(makeStore);
      const a = await sim.runtime.start({ machine: 'order-flow', input: { amount: 10 } });
      sim.runtime.register(orderFlowV2, { version: '2', contextSchema: orderContextSchema });
      const b = await sim.runtime.start({ machine: 'order-flow', input: { amount: 20 } });
      const c = await sim.runtime.start({ machine: 'order-flow@1', input: { amount: 30 } });
      expect([a.machine.version, b.machine.version, c.machine.version]).toEqual(['1', '2', '1']);

      // A keeps running on v1: its events and step results follow v1.
      expect(await sim.runtime.send(a.id, { type: 'order.note' })).toMatchObject({ handled: true });
      await held.release(a.id, 'charge', { paymentId: 'p-a' });
      await waitValue(sim, a.id, 'charged');
      expect(await sim.runtime.send(a.id, { type: 'order.ship' })).toMatchObject({ handled: true, value: 'shipped', status: 'done' });
      // B runs v2: shipping leads to invoicing.
      await held.release(b.id, 'charge', { paymentId: 'p-b' });
      await waitValue(sim, b.id, 'charged');
      expect(await sim.runtime.send(b.id, { type: 'order.ship' })).toMatchObject({ value: 'invoicing', status: 'active' });
      expect(held.calls(b.id, 'audit')).toBe(1);
      expect(held.calls(a.id, 'audit')).toBe(0);

      expect(await sim.runtime.versionCounts('order-flow')).toEqual([
        { version: '1', status: 'active', count: 1 },
        { version: '1', status: 'done', count: 1 },
        { version: '2', status: 'active', count: 1 },
      ]);
      expect((await sim.runtime.get(a.id)).machine).toEqual({ id: 'order-flow', version: '1' });
      await sim.runtime.close();
    });

    test('a dry run reports and changes nothing; the migration keeps the timer and the running step, cancels and plans', async () => {
      const { sim, held } = await setUp(makeStore);
      const a = await sim.runtime.start({ machine: 'order-flow', input: { amount: 10 } });
      const b = await sim.runtime.start({ machine: 'order-flow', input: { amount: 20 } });
      const notifyA = await held.running(a.id, 'notify');
      await held.running(b.id, 'charge');
      await sim.clock.advance(10_000, idle);
      sim.runtime.register(orderFlowV2, { version: '2', contextSchema: orderContextSchema });
      sim.runtime.registerMigration({
        machine: 'order-flow',
        from: '1',
        to: '2',
        stateMap: {},
        context: (c: Record<string, unknown>) => ({ ...c, currency: 'EUR' }),
      });

      const before = await stored(sim, a.id);
      const dry = await sim.runtime.migrateInstance(a.id, { to: '2' });
      expect(await stored(sim, a.id)).toBe(before);
      const after60 = `xstate.after.60000.order-flow.working`;
      expect(dry).toMatchObject({
        instanceId: a.id,
        from: '1',
        to: '2',
        migration: { kind: 'registered', steps: ['1→2'] },
        state: { before: 'working', after: 'working', paths: [{ from: 'working', to: 'working' }] },
        context: { added: ['currency'], removed: [], changed: [] },
      });
      expect(dry.effects.kept.map((e) => `${e.kind}:${e.name}`).sort()).toEqual(['step:charge', `timer:${after60}`]);
      expect(dry.effects.kept.find((e) => e.kind === 'timer')?.dueAt).toBe(new Date(START + 60_000).toISOString());
      expect(dry.effects.cancelled.map((e) => `${e.kind}:${e.name}`).sort()).toEqual([
        'step:notify',
        'timer:xstate.after.30000.order-flow.working',
      ]);
      expect(dry.effects.cancelled.find((e) => e.name === 'notify')?.reason).toContain('invokes "notify"');
      expect(dry.effects.planned).toMatchObject([{ kind: 'step', name: 'audit', target: 'audit' }]);

      const report = await sim.runtime.migrateInstance(a.id, { to: '2', dryRun: false, reason: 'audit every charge', caller: operator });
      expect(report.effects).toEqual(dry.effects);
      const migrated = await sim.runtime.get(a.id);
      expect(migrated).toMatchObject({ machine: { version: '2' }, value: 'working', context: { amount: 10, currency: 'EUR' } });
      expect((await sim.runtime.history(a.id)).at(-1)).toMatchObject({
        type: 'statekeeper.migrated',
        source: 'operator',
        actor: 'ops:ana',
        payload: { reason: 'audit every charge', from: '1', to: '2' },
      });
      const effects = await sim.runtime.effects(a.id);
      const row = (name: string) => effects.filter((e) => e.name === name);
      expect(row('notify')).toMatchObject([{ status: 'cancelled', error: { code: 'migrated' } }]);
      expect(row('xstate.after.30000.order-flow.working')).toMatchObject([{ status: 'cancelled', error: { code: 'migrated' } }]);
      expect(row('charge')).toMatchObject([{ status: 'pending' }]);
      expect(row(after60)).toMatchObject([{ status: 'pending' }]);
      // The step that the target no longer invokes is aborted; the one it plans runs.
      await eventually(async () => notifyA.signal.aborted, 'the notify step to be aborted');
      await held.running(a.id, 'audit');

      // The running step's result reaches the migrated instance once, and v2 decides what follows.
      await held.release(a.id, 'charge', { paymentId: 'p-a' });
      await waitValue(sim, a.id, 'charged');
      expect(await sim.runtime.send(a.id, { type: 'order.ship' })).toMatchObject({ value: 'invoicing' });
      const history = await sim.runtime.history(a.id);
      expect(history.filter((e) => e.type === 'xstate.done.actor.charge')).toHaveLength(1);
      expect(held.calls(a.id, 'charge')).toBe(1);
      expect(held.calls(a.id, 'audit')).toBe(1);

      // B: the kept timer fires once, at its original time (60 s after the start), the cancelled reminder never.
      await sim.runtime.migrateInstance(b.id, { to: '2', dryRun: false, reason: 'audit every charge', caller: operator });
      await sim.clock.advance(50_000, idle);
      const expired = await waitValue(sim, b.id, 'expired');
      expect(expired.status).toBe('done');
      await sim.clock.advance(120_000, idle);
      const fired = (await sim.runtime.history(b.id)).filter((e) => e.type.startsWith('xstate.after.'));
      expect(fired.map((e) => [e.type, e.createdAt.getTime()])).toEqual([[after60, START + 60_000]]);
      expect((await sim.runtime.get(b.id)).context).not.toHaveProperty('reminded');
      // Leaving the state closed what the migration kept and planned: nothing is left open.
      await eventually(async () => (await sim.runtime.effects(b.id)).every((e) => e.status !== 'pending'), 'no open effect of B');
      await sim.runtime.close();
    });

    test('a state map moves a renamed state; a timer whose state id changed is cancelled and planned again from now', async () => {
      const { sim, held } = await setUp(makeStore);
      const a = await sim.runtime.start({ machine: 'order-flow', input: { amount: 10 } });
      await held.running(a.id, 'charge');
      await sim.clock.advance(10_000, idle);
      sim.runtime.register(orderFlowV3, { version: '3' });
      sim.runtime.registerMigration({
        machine: 'order-flow',
        from: '1',
        to: '3',
        stateMap: { working: 'processing' },
        context: (c: Record<string, unknown>) => ({ ...c, currency: 'EUR' }),
      });
      const report = await sim.runtime.migrateInstance(a.id, { to: '3', dryRun: false, caller: operator });
      expect(report.state).toEqual({ before: 'working', after: 'processing', paths: [{ from: 'working', to: 'processing' }] });
      expect(report.effects.kept.map((e) => e.name)).toEqual(['charge']);
      expect(report.effects.planned.map((e) => [e.kind, e.name, e.dueAt])).toEqual([
        ['step', 'audit', new Date(START + 10_000).toISOString()],
        ['timer', 'xstate.after.60000.order-flow.processing', new Date(START + 70_000).toISOString()],
      ]);
      await held.release(a.id, 'charge', { paymentId: 'p' });
      await waitValue(sim, a.id, 'charged');
      await sim.runtime.close();
    });

    test('refused migrations leave the instance byte for byte as it was', async () => {
      const { sim, held } = await setUp(makeStore);
      const a = await sim.runtime.start({ machine: 'order-flow', input: { amount: 10 } });
      await held.running(a.id, 'charge');
      sim.runtime.register(orderFlowV2, { version: '2', contextSchema: orderContextSchema });
      sim.runtime.register(orderFlowV3, { version: '3' });
      const before = await stored(sim, a.id);
      const refusal = (to: string, dryRun: boolean) => sim.runtime.migrateInstance(a.id, { to, dryRun, caller: operator }).catch((e) => e);

      // No migration registered for 1 → 3: the snapshot as it is names a state v3 does not have.
      for (const dryRun of [true, false])
        expect(await refusal('3', dryRun)).toMatchObject({ code: 'migration_state_missing', details: { missingState: 'working' } });
      // No migration for 1 → 2: the context lacks the currency v2's context schema requires.
      expect(await refusal('2', false)).toMatchObject({
        code: 'migration_context_invalid',
        details: { issues: [expect.objectContaining({ path: 'currency' })] },
      });
      // A migration that throws names its step.
      sim.runtime.registerMigration({
        machine: 'order-flow',
        from: '1',
        to: '2',
        migrate: () => {
          throw new Error('no rate for this amount');
        },
      });
      expect(await refusal('2', false)).toMatchObject({ code: 'migration_failed', details: { step: '1→2' } });
      expect(await refusal('1', false)).toMatchObject({ code: 'migration_same_version' });
      expect(await refusal('9', false)).toMatchObject({ code: 'machine_version_not_found' });
      expect(await stored(sim, a.id)).toBe(before);

      // The instance still runs on v1 as before.
      await held.release(a.id, 'charge', { paymentId: 'p' });
      await waitValue(sim, a.id, 'charged');
      expect(await sim.runtime.send(a.id, { type: 'order.ship' })).toMatchObject({ value: 'shipped' });
      expect(await sim.runtime.migrateInstance(a.id, { to: '2' }).catch((e) => e)).toMatchObject({ code: 'instance_not_active' });
      await sim.runtime.close();
    });
  });
}
