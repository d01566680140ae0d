/**
 * `npm run bench -- --churn`: whether vacuum keeps up. 64 three-step workflows stay in flight for CHURN_S
 * (600 s) while retention removes finished instances older than CHURN_RETAIN_S (30 s) every CHURN_PURGE_S
 * (5 s), so the number of stored rows stays about constant. Every CHURN_SAMPLE_S (60 s): throughput, rows
 * purged, and per table its size with indexes, live and dead row versions and autovacuum count. The verdict
 * compares the total size at the middle of the run with the end: stable when it grew less than 10%.
 *
 * Retention's own policy counts in whole days (runtime/retention.ts), so the bench calls the same purge the
 * runtime's retention calls (`purgeFinished`, the function `sk_retention_purge`) with a cut-off of seconds.
 */
import { loadavg } from 'node:os';
import pg from 'pg';
import { between, sleep, startSteadyLoad } from './steady-load.ts';
import { HOT_TABLES, mb, statLines, type TableStat, tableStats } from './table-stats.ts';

const env = (name: string, fallback: number) => {
  const v = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number of seconds`);
  return v;
};

/** Growth from the middle sample to the last one below which the sizes count as stable. */
const STABLE_GROWTH = 0.1;

/** The rows printed by `npm run bench -- --churn` (printed as they come, too). */
export async function churn(url: string): Promise<string[]> {
  const totalS = env('CHURN_S', 600);
  const retainS = env('CHURN_RETAIN_S', 30);
  const purgeS = env('CHURN_PURGE_S', 5);
  const sampleS = env('CHURN_SAMPLE_S', 60);
  const out: string[] = [];
  const say = (...lines: string[]) => {
    for (const l of lines) console.log(l), out.push(l);
  };

  const monitor = new pg.Client({ connectionString: url });
  await monitor.connect();
  say(`64 three-step workflows in flight for ${totalS} s; finished instances older than ${retainS} s purged every ${purgeS} s`);

  const load = await startSteadyLoad(url, 64, `bench-churn-${process.pid}`); // migrates the database first
  const { rows: settings } = await monitor.query(
    `select name, setting from pg_settings where name in ('autovacuum', 'autovacuum_naptime', 'autovacuum_vacuum_scale_factor',
       'autovacuum_vacuum_threshold', 'autovacuum_vacuum_insert_scale_factor', 'autovacuum_vacuum_cost_limit',
       'autovacuum_vacuum_cost_delay', 'autovacuum_max_workers') order by name`,
  );
  const { rows: options } = await monitor.query(
    `select relname, array_to_string(reloptions, ', ') as o from pg_class where relname = any ($1::text[]) and reloptions is not null`,
    [HOT_TABLES],
  );
  say(`Server: ${settings.map((s) => `${s.name}=${s.setting}`).join(', ')}`);
  say(`Tables: ${options.map((o) => `${o.relname} (${o.o})`).join('; ') || 'no storage parameters'}`);
  const t0 = performance.now();
  let purged = 0;
  let purging = true;
  const purger = (async () => {
    while (purging) {
      for (;;) {
        const now = new Date();
        const before = new Date(now.getTime() - retainS * 1000);
        const c = await load.store.purgeFinished({ before, mode: 'delete', limit: 500, dryRun: false, now });
        purged += c.instances;
        if (c.instances < 500 || !purging) break;
      }
      await sleep(purgeS * 1000);
    }
  })();

  // Sizes go up and down with each vacuum: each table's peak within each sample period (looked at every
  // CHURN_POLL_S) is what the disk must hold, and is compared rather than a value at one instant.
  const pollS = Math.min(sampleS, env('CHURN_POLL_S', 10));
  const first = await tableStats(monitor);
  const samples: { at: number; stats: TableStat[]; peak: Map<string, number> }[] = [
    { at: 0, stats: first, peak: new Map(first.map((t) => [t.table, t.total])) },
  ];
  let lastPurged = 0;
  let peak = new Map<string, number>();
  for (let s = pollS; s <= totalS + 0.001; s += pollS) {
    await sleep(Math.max(0, t0 + s * 1000 - performance.now()));
    const stats = await tableStats(monitor);
    for (const t of stats) peak.set(t.table, Math.max(peak.get(t.table) ?? 0, t.total));
    if (Math.round(s * 1000) % Math.round(sampleS * 1000) !== 0 && s + pollS <= totalS + 0.001) continue;
    samples.push({ at: s, stats, peak });
    peak = new Map();
    const from = samples.at(-2)!.at;
    const rate = between(load.workflows, t0 + from * 1000, t0 + s * 1000).length / (s - from);
    say(
      '',
      `${s} s: ${rate.toFixed(0)} wf/s, ${purged - lastPurged} instances purged, load ${loadavg()[0]!.toFixed(1)}`,
      ...statLines(stats),
    );
    lastPurged = purged;
  }
  purging = false;
  await purger;
  await load.stop();
  await monitor.end();

  // Total size (with indexes) per table and sample, then the verdict.
  const tables = samples[0]!.stats.map((t) => t.table);
  const sizeOf = (i: number, table: string) => samples[i]!.peak.get(table) ?? 0;
  const mid = Math.floor((samples.length - 1) / 2);
  const last = samples.length - 1;
  const w = Math.max(...tables.map((t) => t.length));
  say('', `Peak total size with indexes (MB) in each ${sampleS} s; growth from ${samples[mid]!.at} s to ${samples[last]!.at} s:`);
  say(`  ${'table'.padEnd(w)}  ${samples.map((x) => `${x.at}s`.padStart(7)).join('')}   growth  autovacuums`);
  let before = 0;
  let after = 0;
  for (const t of tables) {
    const a = sizeOf(mid, t);
    const b = sizeOf(last, t);
    before += a;
    after += b;
    const g = a > 0 ? `${(((b - a) / a) * 100).toFixed(1)}%` : '-';
    const av = samples[last]!.stats.find((x) => x.table === t)?.autovacuums ?? 0;
    say(
      `  ${t.padEnd(w)}  ${samples.map((_, i) => (sizeOf(i, t) / 1024 / 1024).toFixed(1).padStart(7)).join('')}  ${g.padStart(7)}  ${av}`,
    );
  }
  const growth = (after - before) / before;
  say(
    '',
    `All hot tables (peaks): ${mb(before)} at ${samples[mid]!.at} s, ${mb(after)} at ${samples[last]!.at} s: ` +
      `${(growth * 100).toFixed(1)}% growth, ${growth < STABLE_GROWTH ? 'stable' : 'NOT stable'} ` +
      `(threshold ${STABLE_GROWTH * 100}%); ${purged} instances purged, ${load.errors} workflows failed`,
  );
  return out;
}
