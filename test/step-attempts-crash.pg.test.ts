import { describe, expect, test } from 'vitest';
import { crashHarness } from './support/crash-harness.ts';
import { eventually } from './support/poll.ts';

/**
 * A step's attempts count the calls made, and its back-off survives a crash:
 * the runtime runs in a child process killed with SIGKILL during a back-off
 * or during a call, then a new process resumes the `flaky` machine (three
 * calls at most, 3 s apart). Times are the database's clock on both sides.
 */
describe('step attempts and back-off across SIGKILL', () => {
  const { spawn, q } = crashHarness({ WORKER_ID: 'attempts-worker' });
  const calls = (key: string) => q(`select attempt, at from test_step_log where idempotency_key = $1 order by id`, [key]);
  const stepRow = async (id: string) => (await q(`select * from sk_effect where instance_id = $1 and kind = 'step'`, [id]))[0];
  const finished = (id: string) =>
    eventually(
      async () => (await q(`select 1 from sk_instance where id = $1 and status <> 'active'`, [id])).length > 0,
      'the instance to finish',
      60_000,
    );

  test('killed during a back-off: the next call waits for its due time, and only calls count', { timeout: 120_000 }, async () => {
    const first = await spawn();
    const { id } = await first.call('start', { machine: 'flaky' });
    // The first call failed and its retry is scheduled (the row carries the error and the due time).
    const waiting = await eventually(async () => {
      const row = await stepRow(id);
      return row?.last_error ? row : undefined;
    }, 'the first call to fail');
    expect(waiting.attempts).toBe(1);
    const due = new Date(waiting.due_at).getTime();
    await first.kill();

    await spawn();
    await finished(id);
    const made = await calls(waiting.id);
    // Three calls, numbered 1, 2, 3: the restart consumed no attempt and made no extra call.
    expect(made.map((c) => c.attempt)).toEqual([1, 2, 3]);
    // The second call did not start before the back-off was due.
    expect(new Date(made[1].at).getTime()).toBeGreaterThanOrEqual(due);
    expect(await stepRow(id)).toMatchObject({ status: 'failed', attempts: 3, error: { attempts: 3, outcome: 'unknown' } });
    expect((await q(`select state_value from sk_instance where id = $1`, [id]))[0].state_value).toBe('failed');
  });

  test('killed during the last allowed call: it counts, and the step is not called a fourth time', { timeout: 120_000 }, async () => {
    const first = await spawn({ FLAKY_HANG_FROM: '3' });
    const { id } = await first.call('start', { machine: 'flaky' });
    const key = `${id}:call:1`;
    await eventually(async () => (await calls(key)).length === 3, 'the third call to start', 60_000);
    expect((await stepRow(id)).attempts).toBe(3);
    await first.kill();

    await spawn();
    await finished(id);
    expect((await calls(key)).map((c) => c.attempt)).toEqual([1, 2, 3]);
    // Its outcome is unknown: the chart gets the interruption, the row the count.
    expect(await stepRow(id)).toMatchObject({
      status: 'failed',
      attempts: 3,
      error: { name: 'StepInterruptedError', attempts: 3, outcome: 'unknown' },
    });
    const [event] = await q(`select payload from sk_event where instance_id = $1 and type = 'xstate.error.actor.call'`, [id]);
    expect(event.payload).toMatchObject({ statekeeperStep: { idempotencyKey: key, attempts: 3, outcome: 'unknown' } });
  });

  test('killed during a call: the interrupted call counts as an attempt, the next one is number 2', { timeout: 120_000 }, async () => {
    const first = await spawn({ FLAKY_HANG_FROM: '1' });
    const { id } = await first.call('start', { machine: 'flaky' });
    const key = `${id}:call:1`;
    await eventually(async () => (await calls(key)).length === 1, 'the first call to start');
    await first.kill();

    await spawn();
    await finished(id);
    expect((await calls(key)).map((c) => c.attempt)).toEqual([1, 2, 3]);
    expect(await stepRow(id)).toMatchObject({ status: 'failed', attempts: 3 });
  });
});
