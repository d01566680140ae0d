import { describe, expect, test } from 'vitest';
import { DEFAULT_LEASE_MS } from '../runtime/lease-keeper.ts';
import { crashHarness } from './support/crash-harness.ts';
import { eventually } from './support/poll.ts';

/**
 * Failover between two runtime processes on one database, with the default
 * lease (4 s) and heartbeat (2 s) and the default poll interval (1 s): a live
 * process keeps the leases of what it works on, a killed one has its steps and
 * timers taken over by the other, and whatever both processes try to commit
 * counts once. Takeover times are printed, not asserted (a loaded machine may
 * take longer); the bound of 30 s only tells a takeover from none.
 */
describe('failover: a killed process has its steps and timers taken over by another', () => {
  const { spawn, q } = crashHarness({ POLL_MS: '1000' });
  const dbNow = async () => new Date((await q(`select clock_timestamp() as t`))[0].t).getTime();
  const stepLog = (step: string) => q(`select pid, attempt, at from test_step_log where step = $1 order by id`, [step]);
  const history = async (id: string) => q(`select seq, type from sk_event where instance_id = $1 order by seq`, [id]);

  test('owner killed mid-step: the live process keeps its lease meanwhile, then takes the step over; one result', {
    timeout: 120_000,
  }, async () => {
    const a = await spawn({ WORKER_ID: 'a', HANG_STEP: 'stepB' });
    const b = await spawn({ WORKER_ID: 'b' });
    const { id } = await a.call('start', { machine: 'three-steps', input: { n: 1 } });
    await eventually(async () => (await stepLog('stepB')).length > 0, 'stepB to start in A');
    const effectId = `${id}:b:2`;
    const lease = async () => (await q(`select lease_owner, lease_until from sk_effect where id = $1`, [effectId]))[0];
    const first = new Date((await lease()).lease_until).getTime();

    // While A lives, its heartbeat renews the lease past its first end, and B (polling every second) leaves the step alone.
    await eventually(
      async () => new Date((await lease()).lease_until).getTime() >= first + DEFAULT_LEASE_MS,
      'the lease to be renewed past its first end',
      30_000,
    );
    expect((await lease()).lease_owner).toBe('a');
    expect(await stepLog('stepB')).toHaveLength(1);

    await a.kill();
    const killedAt = await dbNow();
    const [, takenOver] = await eventually(
      async () => {
        const rows = await stepLog('stepB');
        return rows.length > 1 ? rows : undefined;
      },
      'B to take stepB over',
      30_000,
    );
    const takeoverMs = new Date(takenOver.at).getTime() - killedAt;
    console.log(`failover: step taken over ${takeoverMs} ms after SIGKILL (lease ${DEFAULT_LEASE_MS} ms, poll 1000 ms)`);
    expect(takenOver.pid).toBe(b.pid);
    expect(takeoverMs).toBeLessThan(30_000);

    await eventually(async () => (await q(`select 1 from sk_instance where id = $1 and status = 'done'`, [id])).length > 0, 'done');
    const h = await history(id);
    expect(h.map((r) => r.seq)).toEqual([1, 2, 3, 4]);
    expect(h.filter((r) => r.type === 'xstate.done.actor.b')).toHaveLength(1);
    const [effect] = await q(`select status, attempts, result from sk_effect where id = $1`, [effectId]);
    expect(effect).toMatchObject({ status: 'done', attempts: 2, result: { b: 3 } });
    const [inst] = await q(`select output from sk_instance where id = $1`, [id]);
    expect(inst.output).toEqual({ results: [{ a: 2 }, { b: 3 }, { c: 4 }] });
    await b.kill();
  });

  test('owner killed mid-timer: the other process claims the armed timer and it fires once', { timeout: 120_000 }, async () => {
    const a = await spawn({ WORKER_ID: 'a-timer' });
    const b = await spawn({ WORKER_ID: 'b-timer' });
    // `deadline` waits 5 s; the timer is armed in A, which holds its lease.
    const { id } = await a.call('start', { machine: 'deadline' });
    const timer = async () =>
      (await q(`select id, lease_owner, updated_at, status from sk_effect where instance_id = $1 and kind = 'timer'`, [id]))[0];
    expect((await timer()).lease_owner).toBe('a-timer');
    await a.kill();
    const killedAt = await dbNow();

    const claimed = await eventually(
      async () => {
        const t = await timer();
        return t.lease_owner === 'b-timer' || t.status !== 'pending' ? t : undefined;
      },
      'B to claim the timer',
      30_000,
    );
    console.log(`failover: timer claimed ${new Date(claimed.updated_at).getTime() - killedAt} ms after SIGKILL`);
    await eventually(async () => (await q(`select 1 from sk_instance where id = $1 and status = 'done'`, [id])).length > 0, 'expiry');
    const h = await history(id);
    expect(h.map((r) => r.type)).toEqual(['xstate.init', expect.stringMatching(/^xstate\.after\./)]);
    expect((await timer()).status).toBe('done');
    expect((await q(`select state_value from sk_instance where id = $1`, [id]))[0].state_value).toBe('expired');
    await b.kill();
  });

  test('an owner whose heartbeat stopped but who keeps working is fenced: its late result does not count', {
    timeout: 120_000,
  }, async () => {
    // A neither renews nor polls (as when it cannot reach the database for those) and stalls in stepB until B
    // committed it; then it offers its own result for commit.
    const a = await spawn({ WORKER_ID: 'a-stale', HEARTBEAT_MS: '0', POLL_MS: '0', STALL_STEP: 'stepB' });
    const b = await spawn({ WORKER_ID: 'b-live' });
    await q(`delete from test_step_log`);
    const { id } = await a.call('start', { machine: 'three-steps', input: { n: 5 } });
    await eventually(async () => (await stepLog('stepB:returned')).length > 0, "A's stalled stepB to return after B's commit", 60_000);
    // A's late result went to the commit path: its `settled` waits for it.
    await a.call('settled');
    await eventually(async () => (await q(`select 1 from sk_instance where id = $1 and status = 'done'`, [id])).length > 0, 'done');

    const calls = await stepLog('stepB');
    expect(calls.map((r) => r.pid).sort()).toEqual([a.pid, b.pid].sort());
    const h = await history(id);
    expect(h.map((r) => r.seq)).toEqual([1, 2, 3, 4]);
    expect(h.filter((r) => r.type === 'xstate.done.actor.b')).toHaveLength(1);
    expect((await q(`select output from sk_instance where id = $1`, [id]))[0].output).toEqual({
      results: [{ a: 6 }, { b: 7 }, { c: 8 }],
    });
  });
});
