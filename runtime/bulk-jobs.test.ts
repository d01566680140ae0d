import { assign, setup } from 'xstate';
import { describe, expect, test } from 'vitest';
import { MemoryStore } from './memory-store.ts';
import { createSimulation } from './testing/index.ts';

/** A ticket: open until closed (a cancel closes it too); `operator.retry` reopens a parked one. */
const ticket = setup({
  types: { input: {} as { tier: string; region?: string }, context: {} as { tier: string; region: string; reopened: number } },
}).createMachine({
  id: 'ticket',
  context: ({ input }) => ({ tier: input.tier, region: input.region ?? 'eu', reopened: 0 }),
  initial: 'open',
  states: {
    open: { on: { 'ticket.close': 'closed', 'ticket.park': 'parked', 'workflow.cancel': 'closed' } },
    parked: { on: { 'operator.retry': { target: 'open', actions: assign({ reopened: ({ context }) => context.reopened + 1 }) } } },
    closed: { type: 'final' },
  },
});

async function tickets(batch = 200) {
  const sim = await createSimulation({ machines: [{ machine: ticket, options: { version: '1' } }], bulkBatchSize: batch });
  const ids: Record<string, string[]> = { gold: [], silver: [] };
  for (let i = 0; i < 12; i++) {
    const tier = i < 4 ? 'gold' : 'silver';
    const { id } = await sim.runtime.start({ machine: 'ticket', input: { tier, region: i % 2 ? 'us' : 'eu' }, tenant: 'acme' });
    ids[tier]!.push(id);
  }
  return { sim, ids };
}

const until = async (sim: Awaited<ReturnType<typeof tickets>>['sim'], jobId: string) => {
  await sim.settle();
  return sim.runtime.bulk.get(jobId, 'acme');
};

describe('bulk actions on the memory store', () => {
  test('a dry run counts by list filters, state value and context fields, and changes nothing', async () => {
    const { sim, ids } = await tickets();
    await sim.runtime.send(ids.silver[0]!, { type: 'ticket.park' }, { tenant: 'acme' });
    await sim.runtime.send(ids.silver[1]!, { type: 'ticket.close' }, { tenant: 'acme' });
    const count = async (filter: object) => (await sim.runtime.bulk.preview({ action: 'cancel', tenant: 'acme', filter })).count;
    expect(await count({})).toBe(12);
    expect(await count({ machineId: 'ticket', status: ['active'] })).toBe(11);
    expect(await count({ context: { tier: 'gold' } })).toBe(4);
    expect(await count({ context: { tier: 'gold', region: 'us' } })).toBe(2);
    expect(await count({ stateValue: 'parked' })).toBe(1);
    expect(await count({ state: 'open', context: { tier: 'silver' } })).toBe(6);
    expect(await count({ context: { tier: 'bronze' } })).toBe(0);
    const preview = await sim.runtime.bulk.preview({ action: 'cancel', tenant: 'acme', filter: { context: { tier: 'gold' } } });
    expect(preview.sample).toEqual([...ids.gold].sort());
    expect(await sim.runtime.bulk.preview({ action: 'cancel', tenant: 'other', filter: {} })).toMatchObject({ count: 0 });
    expect((await sim.runtime.list({ tenant: 'acme', status: ['stopped'] })).items).toHaveLength(0);
  });

  test('a job cancels what it matches batch by batch; pause, resume and retry report done and skipped', async () => {
    const { sim, ids } = await tickets(3);
    await sim.runtime.send(ids.gold[0]!, { type: 'ticket.close' }, { tenant: 'acme' });
    const caller = { id: 'ops:ana' };
    const job = await sim.runtime.bulk.start({
      action: 'cancel',
      tenant: 'acme',
      filter: { context: { tier: 'gold' } },
      caller,
      reason: 'tier retired',
    });
    expect(job).toMatchObject({ status: 'running', total: 4, done: 0, actor: 'ops:ana', reason: 'tier retired' });
    expect(await until(sim, job.id)).toMatchObject({ status: 'completed', done: 3, skipped: 1, failed: 0, failures: [] });
    for (const id of ids.gold.slice(1)) {
      expect(await sim.runtime.get(id, { tenant: 'acme' })).toMatchObject({ status: 'done', value: 'closed' });
      expect((await sim.runtime.history(id, { tenant: 'acme' })).at(-1)).toMatchObject({
        type: 'workflow.cancel',
        source: 'operator',
        actor: 'ops:ana',
        payload: { reason: 'tier retired' },
      });
    }

    const silver = { context: { tier: 'silver' } };
    const paused = await sim.runtime.bulk.start({ action: 'pause', tenant: 'acme', filter: silver });
    expect(await until(sim, paused.id)).toMatchObject({ status: 'completed', done: 8, skipped: 0 });
    // A paused instance refuses the cancel event: a failure with its code in the report.
    const refused = await sim.runtime.bulk.start({
      action: 'cancel',
      tenant: 'acme',
      filter: { ...silver, context: { tier: 'silver', region: 'us' } },
    });
    const report = await until(sim, refused.id);
    expect(report).toMatchObject({ status: 'completed', done: 0, failed: 4 });
    expect(report.failures.map((f) => f.code)).toEqual(['instance_paused', 'instance_paused', 'instance_paused', 'instance_paused']);
    const resumed = await sim.runtime.bulk.start({ action: 'resume', tenant: 'acme', filter: { machineId: 'ticket' } });
    expect(await until(sim, resumed.id)).toMatchObject({ done: 8, skipped: 4 });

    await sim.runtime.send(ids.silver[0]!, { type: 'ticket.park' }, { tenant: 'acme' });
    const retried = await sim.runtime.bulk.start({ action: 'retry', tenant: 'acme', filter: silver });
    expect(await until(sim, retried.id)).toMatchObject({ done: 1, skipped: 7 });
    expect((await sim.runtime.get(ids.silver[0]!, { tenant: 'acme' })).context).toMatchObject({ reopened: 1 });

    // Newest first (all made at one simulated instant here: by id), two pages without overlap.
    const list = await sim.runtime.bulk.list('acme', { limit: 2 });
    const rest = await sim.runtime.bulk.list('acme', { cursor: list.nextCursor! });
    expect([...list.items, ...rest.items].map((j) => j.id).sort()).toEqual(
      [job, paused, refused, resumed, retried].map((j) => j.id).sort(),
    );
    expect(list.items).toHaveLength(2);
    expect(rest.nextCursor).toBeNull();
    expect((await sim.runtime.bulk.list('other')).items).toEqual([]);
  });

  test("bad actions and filters are invalid_argument; another tenant's job is not found; nothing is created", async () => {
    const { sim } = await tickets();
    const bad = (req: object) => sim.runtime.bulk.start({ action: 'cancel', tenant: 'acme', filter: {}, ...req } as never).catch((e) => e);
    expect(await bad({ action: 'delete' })).toMatchObject({ code: 'invalid_argument' });
    expect(await bad({ filter: { status: ['asleep'] } })).toMatchObject({ code: 'invalid_argument' });
    expect(await bad({ filter: { context: { 'a..b': 1 } } })).toMatchObject({ code: 'invalid_argument' });
    expect(await bad({ filter: { colour: 'red' } })).toMatchObject({ code: 'invalid_argument' });
    expect((await sim.runtime.bulk.list('acme')).items).toEqual([]);
    const job = await sim.runtime.bulk.start({ action: 'pause', tenant: 'acme', filter: {} });
    expect(await sim.runtime.bulk.get(job.id, 'other').catch((e) => e)).toMatchObject({ code: 'bulk_job_not_found' });
    expect(await sim.runtime.bulk.cancel(job.id, 'other').catch((e) => e)).toMatchObject({ code: 'bulk_job_not_found' });
  });
});

test('a job cancelled while it runs stops after the batch in hand, which it still counts', async () => {
  const { sim } = await tickets(3);
  const job = await sim.runtime.bulk.start({ action: 'pause', tenant: 'acme', filter: {} });
  const cancelled = await sim.runtime.bulk.cancel(job.id, 'acme', { id: 'ops:bo' });
  expect(cancelled).toMatchObject({ status: 'cancelled', cancelledBy: 'ops:bo' });
  const after = await until(sim, job.id);
  expect(after.status).toBe('cancelled');
  const paused = (await sim.runtime.list({ tenant: 'acme' })).items.filter((i) => i.paused).length;
  expect(after.done).toBe(paused);
  expect(after.done + after.skipped + after.failed).toBeLessThan(12);
  // Idempotent; and a finished job stays as it finished.
  expect(await sim.runtime.bulk.cancel(job.id, 'acme')).toMatchObject({ status: 'cancelled', cancelledBy: 'ops:bo' });
});

test('migrate moves the matching instances to the version given; finished ones are skipped; "to" is required', async () => {
  const v2 = ticket.provide({});
  const sim = await createSimulation({
    machines: [
      { machine: ticket, options: { version: '1' } },
      { machine: v2, options: { version: '2' } },
    ],
  });
  const ids: string[] = [];
  for (let i = 0; i < 4; i++) ids.push((await sim.runtime.start({ machine: 'ticket@1', input: { tier: 'gold' }, tenant: 'acme' })).id);
  await sim.runtime.send(ids[0]!, { type: 'ticket.close' }, { tenant: 'acme' });
  const missing = await sim.runtime.bulk.start({ action: 'migrate', tenant: 'acme', filter: {} }).catch((e) => e);
  expect(missing).toMatchObject({ code: 'invalid_argument' });
  const filter = { machineId: 'ticket', machineVersion: '1' };
  const job = await sim.runtime.bulk.start({ action: 'migrate', params: { to: '2' }, tenant: 'acme', filter, caller: { id: 'ops:ana' } });
  expect(job.params).toEqual({ to: '2' });
  expect(await until(sim, job.id)).toMatchObject({ status: 'completed', done: 3, skipped: 1, failed: 0 });
  const versions = await Promise.all(ids.map(async (id) => (await sim.runtime.get(id, { tenant: 'acme' })).machine.version));
  expect(versions).toEqual(['1', '2', '2', '2']);
});

test('a job held by a process that crashed is taken over when its lease lapses, and goes on after its cursor', async () => {
  const store = new MemoryStore();
  const sim = await createSimulation({ store, machines: [{ machine: ticket, options: { version: '1' } }], bulkBatchSize: 5 });
  for (let i = 0; i < 12; i++) await sim.runtime.start({ machine: 'ticket', input: { tier: 'gold' }, tenant: 'acme' });
  const sorted = (await sim.runtime.list({ tenant: 'acme' })).items.map((i) => i.id).sort();
  const now = sim.runtime.clock.now();
  // As the crashed process left it: four instances handled, its lease running for another 30 s.
  await store.bulkStore().createJob({
    ...{ id: 'a1b2c3d4-0000-4000-8000-000000000001', tenant: 'acme', action: 'pause', filter: {}, params: {}, reason: null },
    ...{ actor: 'ops:ana', status: 'running', total: 12, done: 4, failed: 0, skipped: 0, cursor: sorted[3]!, failures: [] },
    ...{ leaseOwner: 'crashed', leaseUntil: new Date(now.getTime() + 30_000), createdAt: now, updatedAt: now },
    ...{ finishedAt: null, cancelledBy: null },
  });
  sim.runtime.bulk.resume();
  expect(await until(sim, 'a1b2c3d4-0000-4000-8000-000000000001')).toMatchObject({ status: 'running', done: 4 });
  await sim.advance(30_001);
  sim.runtime.bulk.resume();
  expect(await until(sim, 'a1b2c3d4-0000-4000-8000-000000000001')).toMatchObject({ status: 'completed', done: 12 });
  const paused = (await sim.runtime.list({ tenant: 'acme' })).items.filter((i) => i.paused).map((i) => i.id);
  expect(paused.sort()).toEqual(sorted.slice(4));
});
