/**
 * `npm run bench -- --stuck`: throughput while another session holds back the xmin horizon. 64 three-step
 * workflows stay in flight throughout; throughput is counted per window (STUCK_WINDOW_S, 10 s). Phases:
 * baseline (STUCK_BASELINE_S, 60 s), then a session opens `begin isolation level repeatable read; select
 * txid_current()` and holds it (STUCK_HOLD_S, 180 s; its `backend_xmin` in pg_stat_activity is checked), then
 * it rolls back and the load runs on (STUCK_RECOVERY_S, 60 s). Reported per phase: workflows/s (mean, worst
 * window, change against the baseline), p99 of workflow, commit and poller-claim latency; table sizes and dead
 * row versions at the start, at the end of the hold and after recovery; the plans of the poller's queries
 * (EXPLAIN ANALYZE, in a transaction rolled back) at the end of the baseline and at the end of the hold.
 */
import { loadavg } from 'node:os';
import pg from 'pg';
import { sampleActivity } from './activity-sampler.ts';
import { between, quantile, type Sample, sleep, startSteadyLoad } from './steady-load.ts';
import { statLines, tableStats, xminHorizon } from './table-stats.ts';

const env = (name: string, fallback: number) => {
  const v = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number of seconds`);
  return v;
};

/**
 * The poller's two queries as the store runs them (`claimDue` and `finishedChildren` in
 * adapters/postgres/pg-instance-store.ts), with the claim's own update left out (the rows are locked, then
 * the transaction is rolled back).
 */
const POLLER_QUERIES: [string, string][] = [
  [
    'claimDue',
    `select id, lease_owner from sk_effect
     where status = 'pending' and due_at <= now() and due_at <= case when kind = 'timer' then now() else now() end
       and (lease_until is null or lease_until < now())
       and not exists (select 1 from sk_instance i where i.id = sk_effect.instance_id and (i.paused or i.status = 'error'))
     order by due_at, seq limit 200 for update skip locked`,
  ],
  [
    'finishedChildren',
    `select to_jsonb(e) as effect, to_jsonb(c) as child from sk_effect e join sk_instance c on c.id = e.id
     where e.kind = 'child' and e.status = 'pending' and c.status <> 'active' limit 200`,
  ],
];

async function explainPoller(db: pg.Client): Promise<string[]> {
  const out: string[] = [];
  for (const [name, sql] of POLLER_QUERIES) {
    await db.query('begin');
    try {
      const { rows } = await db.query(`explain (analyze, buffers, costs off, summary on) ${sql}`);
      out.push(`  ${name}:`, ...rows.map((r) => `    ${r['QUERY PLAN']}`));
    } finally {
      await db.query('rollback');
    }
  }
  return out;
}

interface Phase {
  name: string;
  from: number;
  to: number;
}

/** The rows printed by `npm run bench -- --stuck`. */
export async function stuck(url: string): Promise<string[]> {
  const windowS = env('STUCK_WINDOW_S', 10);
  const baselineS = env('STUCK_BASELINE_S', 60);
  const holdS = env('STUCK_HOLD_S', 180);
  const recoveryS = env('STUCK_RECOVERY_S', 60);
  const out: string[] = [];
  const say = (...lines: string[]) => {
    for (const l of lines) console.log(l), out.push(l);
  };

  const monitor = new pg.Client({ connectionString: url });
  await monitor.connect();
  const load = await startSteadyLoad(url, 64, `bench-stuck-${process.pid}`);
  const activity = await sampleActivity(url);
  const t0 = performance.now();
  const phases: Phase[] = [
    { name: 'baseline', from: t0, to: t0 + baselineS * 1000 },
    { name: 'xmin held', from: t0 + baselineS * 1000, to: t0 + (baselineS + holdS) * 1000 },
    { name: 'recovery', from: t0 + (baselineS + holdS) * 1000, to: t0 + (baselineS + holdS + recoveryS) * 1000 },
  ];
  const sizes: [string, string[]][] = [['start', statLines(await tableStats(monitor))]];
  const plans: [string, string[]][] = [];
  const windows: { phase: string; rate: number }[] = [];
  say(`64 three-step workflows in flight; windows of ${windowS} s; baseline ${baselineS} s, hold ${holdS} s, recovery ${recoveryS} s`);
  say(
    `  ${'window'.padEnd(12)}${'phase'.padEnd(11)}${'wf/s'.padStart(7)}  ${'commit p99'.padStart(11)}  ` +
      `${'claim p99'.padStart(10)}  ${'xmin age'.padStart(8)}  load`,
  );

  let holder: pg.Client | undefined;
  for (const phase of phases) {
    activity.label(phase.name);
    if (phase.name === 'xmin held') {
      plans.push(['end of baseline', await explainPoller(monitor)]);
      holder = new pg.Client({ connectionString: url });
      await holder.connect();
      const { rows: pidRow } = await holder.query('select pg_backend_pid() as pid');
      await holder.query('begin isolation level repeatable read');
      await holder.query('select txid_current()');
      const { rows } = await monitor.query(
        `select backend_xmin::text as xmin, backend_xid::text as xid, state from pg_stat_activity where pid = $1`,
        [pidRow[0].pid],
      );
      say(`  -- session ${pidRow[0].pid} holds xmin ${rows[0]?.xmin} (xid ${rows[0]?.xid}, ${rows[0]?.state})`);
    }
    if (phase.name === 'recovery') {
      plans.push([`end of hold`, await explainPoller(monitor)]);
      sizes.push(['end of hold', statLines(await tableStats(monitor))]);
      await holder!.query('rollback');
      await holder!.end();
      say('  -- released');
    }
    for (let w = phase.from; w + windowS * 1000 <= phase.to + 1; w += windowS * 1000) {
      const end = w + windowS * 1000;
      await sleep(Math.max(0, end - performance.now()));
      const done = between(load.workflows, w, end).length;
      const rate = done / windowS;
      windows.push({ phase: phase.name, rate });
      const horizon = await xminHorizon(monitor);
      say(
        `  ${`${Math.round((w - t0) / 1000)}-${Math.round((end - t0) / 1000)} s`.padEnd(12)}${phase.name.padEnd(11)}` +
          `${rate.toFixed(0).padStart(7)}  ${ms(quantile(between(load.commits, w, end), 0.99)).padStart(11)}  ` +
          `${ms(quantile(between(load.polls, w, end), 0.99)).padStart(10)}  ${String(horizon ? horizon.age : '-').padStart(8)}  ` +
          loadavg()[0]!.toFixed(1),
      );
    }
  }
  sizes.push(['after recovery', statLines(await tableStats(monitor))]);
  await activity.stop();
  await load.stop();
  await monitor.end();

  const base = mean(windows.filter((w) => w.phase === 'baseline').map((w) => w.rate));
  say('', 'Per phase (wf/s: mean, worst window, mean against the baseline; p99 of the phase):');
  say(
    `  ${'phase'.padEnd(11)}${'mean'.padStart(7)}${'worst'.padStart(7)}${'change'.padStart(9)}` +
      `${'workflow p99'.padStart(14)}${'commit p99'.padStart(12)}${'claim p99'.padStart(11)}`,
  );
  for (const p of phases) {
    const rates = windows.filter((w) => w.phase === p.name).map((w) => w.rate);
    const m = mean(rates);
    const pick = (s: Sample[]) => ms(quantile(between(s, p.from, p.to), 0.99));
    say(
      `  ${p.name.padEnd(11)}${m.toFixed(0).padStart(7)}${Math.min(...rates)
        .toFixed(0)
        .padStart(7)}` +
        `${`${(((m - base) / base) * 100).toFixed(1)}%`.padStart(9)}${pick(load.workflows).padStart(14)}` +
        `${pick(load.commits).padStart(12)}${pick(load.polls).padStart(11)}`,
    );
  }
  if (load.errors) say(`  ${load.errors} workflows failed`);
  for (const [when, lines] of sizes) say('', `Tables at ${when} (total with indexes):`, ...lines);
  say('', 'Statements the sessions were busy in (mean number of sessions in it, sampled every 50 ms; wait event or CPU):');
  for (const p of phases) say(`  ${p.name}:`, ...activity.top(p.name, 6));
  for (const [when, lines] of plans) say('', `Poller queries at ${when}:`, ...lines);
  return out;
}

const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);
const ms = (n: number) => (Number.isNaN(n) ? '-' : `${n.toFixed(1)} ms`);
