import { describe, expect, test } from 'vitest';
import { crashHarness } from './support/crash-harness.ts';
import { eventually } from './support/poll.ts';

/**
 * Crash tests: the runtime runs in a child process that is killed with
 * SIGKILL (no shutdown hook runs), then a new process resumes from Postgres.
 */
describe('SIGKILL and restart', () => {
  const { spawn, q } = crashHarness({ WORKER_ID: 'crash-worker' });

  const inFlight = 'a step in flight is re-run with the same idempotency key; the chart sees one completion; history is gapless';
  test(inFlight, { timeout: 120_000 }, async () => {
    const first = await spawn({ HANG_STEP: 'stepB' });
    const { id } = await first.call('start', { machine: 'three-steps', input: { n: 1 } });
    await eventually(async () => (await q(`select 1 from test_step_log where step = 'stepB'`)).length > 0, 'stepB to start');
    await first.kill();

    const afterKill = await q(`select status, state_value, version from sk_instance where id = $1`, [id]);
    expect(afterKill[0]).toMatchObject({ status: 'active', state_value: 'b', version: 2 });

    await spawn();
    await eventually(
      async () => (await q(`select 1 from sk_instance where id = $1 and status = 'done'`, [id])).length > 0,
      'the instance to finish',
    );

    const log = await q(`select step, idempotency_key, attempt from test_step_log order by id`);
    expect(log.filter((r) => r.step === 'stepA')).toHaveLength(1);
    expect(log.filter((r) => r.step === 'stepC')).toHaveLength(1);
    const b = log.filter((r) => r.step === 'stepB');
    expect(b.map((r) => r.attempt)).toEqual([1, 2]);
    expect(b[0].idempotency_key).toBe(b[1].idempotency_key);
    expect(b[0].idempotency_key).toBe(`${id}:b:2`);

    const history = await q(`select seq, type from sk_event where instance_id = $1 order by seq`, [id]);
    expect(history.map((h) => h.seq)).toEqual([1, 2, 3, 4]);
    expect(history.filter((h) => h.type === 'xstate.done.actor.b')).toHaveLength(1);
    const [inst] = await q(`select output from sk_instance where id = $1`, [id]);
    expect(inst.output).toEqual({ results: [{ a: 2 }, { b: 3 }, { c: 4 }] });
  });

  const timers =
    'pending timers survive SIGKILL: an overdue one fires on restart, a later one at its original time; a cancelled one never fires';
  test(timers, { timeout: 120_000 }, async () => {
    // Times are the database's (event and instance rows), so the assertions compare one clock with itself.
    const dbNow = async () => new Date((await q(`select now() as t`))[0].t).getTime();
    const createdAt = async (id: string) =>
      new Date((await q(`select created_at from sk_instance where id = $1`, [id]))[0].created_at).getTime();
    const first = await spawn();
    const overdue = await first.call('start', { machine: 'deadline' });
    const cancelled = await first.call('start', { machine: 'deadline' });
    await first.call('send', cancelled.id, { type: 'poke' });
    const overdueDue = (await createdAt(overdue.id)) + 5000;
    // The later timer must fall due after the restart, the overdue one before it.
    await eventually(async () => (await dbNow()) > overdueDue - 1000, 'a later start time', 30_000);
    const later = await first.call('start', { machine: 'deadline' });
    await first.kill();
    const laterDue = (await createdAt(later.id)) + 5000;

    // Stay down past the first timer's due time.
    await eventually(async () => (await dbNow()) > overdueDue, 'the first timer to be overdue', 30_000);
    const restartedAt = await dbNow();
    await spawn();
    const readyAt = await dbNow();

    const firedAt = async (id: string) =>
      eventually(
        async () => {
          const rows = await q(`select created_at from sk_event where instance_id = $1 and type like 'xstate.after.%'`, [id]);
          return rows[0] ? new Date(rows[0].created_at).getTime() : undefined;
        },
        `timer of ${id}`,
        60_000,
      );
    const laterFired = await firedAt(later.id);
    const overdueFired = await firedAt(overdue.id);
    // Overdue: fired by the restarted process, at once: before the later timer fell due, unless the
    // restart itself took until then (a loaded machine), when both are overdue and their order is free.
    expect(overdueFired).toBeGreaterThanOrEqual(restartedAt);
    if (readyAt < laterDue) expect(overdueFired).toBeLessThan(laterDue);
    // Later: not before its original due time.
    expect(laterFired).toBeGreaterThanOrEqual(laterDue);

    // Well past the cancelled timer's due time: still poked, its 5 s timer cancelled, the 1 h one pending.
    const [c] = await q(`select state_value from sk_instance where id = $1`, [cancelled.id]);
    expect(c.state_value).toBe('poked');
    const timers = await q(`select name, status from sk_effect where instance_id = $1 order by seq`, [cancelled.id]);
    expect(timers.map((t) => t.status)).toEqual(['cancelled', 'pending']);
    expect((await q(`select type from sk_event where instance_id = $1 order by seq`, [cancelled.id])).map((r) => r.type)).toEqual([
      'xstate.init',
      'poke',
    ]);
    for (const id of [overdue.id, later.id]) {
      expect((await q(`select seq from sk_event where instance_id = $1 order by seq`, [id])).map((r) => r.seq)).toEqual([1, 2]);
    }
  });
});
