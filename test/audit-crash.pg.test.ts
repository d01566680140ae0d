import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { crashHarness } from './support/crash-harness.ts';
import { eventually } from './support/poll.ts';

const script = fileURLToPath(new URL('./support/audit-worker-process.ts', import.meta.url));

/**
 * The audit's schedule status is driven by timer rows: a runtime killed with
 * SIGKILL between at_risk and behind_schedule leaves the second timer in
 * Postgres, and a restarted runtime fires it.
 */
describe('audit schedule across SIGKILL', () => {
  // Planning's SLA is 3 s, at risk after 25 % of it: the kill lands in the 2.25 s between the two timers.
  const { spawn, q } = crashHarness({ WORKER_ID: 'audit-worker', AUDIT_PLANNING_SLA_MS: '3000', AUDIT_AT_RISK: '0.25' }, script);
  const schedule = async (id: string) =>
    (await q(`select state_value #>> '{running,planning,active,schedule}' as s from sk_instance where id = $1`, [id]))[0]?.s as
      | string
      | undefined;

  test('on_schedule → at_risk, SIGKILL, restart → behind_schedule from the stored timer', { timeout: 120_000 }, async () => {
    const first = await spawn();
    const { id } = await first.call('start', { machine: 'audit', input: { reportId: 'R-1' } });
    expect(await schedule(id)).toBe('on_schedule');
    await eventually(async () => (await schedule(id)) === 'at_risk', 'planning to be at risk');
    await first.kill();
    // Killed between the two: the behind_schedule timer is a pending row, not yet fired.
    expect(await schedule(id)).toBe('at_risk');
    const [timer] = await q(
      `select id, due_at from sk_effect
       where instance_id = $1 and kind = 'timer' and status = 'pending' and name like '%.planning.active.schedule.at_risk'`,
      [id],
    );
    expect(timer).toBeDefined();
    // Stay down until it is overdue, so only the restarted runtime can fire it.
    await eventually(
      async () => (await q(`select now() > $1::timestamptz as due`, [timer.due_at]))[0].due,
      'the timer to be overdue',
      30_000,
    );
    expect(await schedule(id)).toBe('at_risk');

    await spawn();
    await eventually(async () => (await schedule(id)) === 'behind_schedule', 'planning to fall behind after the restart', 30_000);
    const history = await q(`select seq, type, source from sk_event where instance_id = $1 order by seq`, [id]);
    expect(history.map((h) => h.seq)).toEqual(history.map((_, i) => i + 1));
    expect(history.filter((h) => h.source === 'timer').map((h) => h.type)).toEqual([
      expect.stringMatching(/\.planning\.active\.schedule\.on_schedule$/),
      expect.stringMatching(/\.planning\.active\.schedule\.at_risk$/),
    ]);
    const events = await q(`select type from sk_outbox where instance_id = $1 order by id`, [id]);
    expect(events.map((e) => e.type)).toEqual(['phase.at_risk', 'phase.behind_schedule']);
    const [effect] = await q(`select status from sk_effect where id = $1`, [timer.id]);
    expect(effect.status).toBe('done');
  });
});
