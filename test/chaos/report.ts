import type { Verdict } from './checker.ts';
import type { RunResult } from './run.ts';
import type { selfCheck } from './self-check.ts';

const LABELS: Record<keyof Verdict['figures'], string> = {
  acknowledgedStartsLost: 'acknowledged starts lost',
  acknowledgedEventsLost: 'acknowledged events lost',
  acknowledgedEventsAppliedTwice: 'acknowledged events applied twice',
  duplicateInstances: 'duplicate instances',
  stuckInstances: 'stuck instances',
  historyGaps: 'history gaps',
  labOrphans: 'lab orphans',
  labDuplicates: 'lab duplicates',
  serverErrorsWhileUp: '5xx while up',
  serverCrashes: 'server or lab crashes',
};

/** What the run did: duration, kills, faults, instances by machine and workflow status. */
export function printRun({ observation: o, stats }: RunResult): void {
  const byStatus: Record<string, number> = {};
  for (const i of o.instances) byStatus[`${i.machine} ${i.workflowStatus}`] = (byStatus[`${i.machine} ${i.workflowStatus}`] ?? 0) + 1;
  console.log(
    `\nchaos run: ${Math.round(stats.durationMs / 1000)} s, ${stats.kills} SIGKILLs, ${stats.databaseRestarts} database restart(s), ` +
      `drain ${Math.round(stats.drainedMs / 1000)} s`,
  );
  console.log(`faults injected: ${JSON.stringify(stats.faults)}`);
  console.log(
    `acknowledged: ${o.starts.length} starts, ${o.events.length} events; ` +
      `${o.instances.length} instances, ${o.lab.length} live lab records; ` +
      `${o.serverErrors.length} 5xx in all (those while up are counted below)`,
  );
  for (const [k, n] of Object.entries(byStatus).sort()) console.log(`  ${k}: ${n}`);
}

/** The figures, then up to ten details of each that is not 0. */
export function printFigures({ figures, details }: Verdict): void {
  console.log('');
  for (const [k, label] of Object.entries(LABELS) as [keyof Verdict['figures'], string][]) console.log(`${label.padEnd(36)} ${figures[k]}`);
  for (const [k, lines] of Object.entries(details)) {
    console.log(`\n${LABELS[k as keyof Verdict['figures']]}:`);
    for (const line of lines!.slice(0, 10)) console.log(`  ${line}`);
    if (lines!.length > 10) console.log(`  … ${lines!.length - 10} more`);
  }
}

export function printSelfCheck(result: ReturnType<typeof selfCheck>): void {
  console.log(`clean observation: ${result.clean ? 'all figures 0' : 'NOT all 0'}`);
  for (const p of result.plants) console.log(`${p.seen ? 'seen  ' : 'MISSED'} ${p.what} → ${LABELS[p.figure]}`);
}
