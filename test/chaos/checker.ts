import type { Observation } from './observation.ts';

/** The figures a chaos run prints; every one must be 0. */
export interface Figures {
  acknowledgedStartsLost: number;
  acknowledgedEventsLost: number;
  acknowledgedEventsAppliedTwice: number;
  duplicateInstances: number;
  stuckInstances: number;
  historyGaps: number;
  labOrphans: number;
  labDuplicates: number;
  serverErrorsWhileUp: number;
  serverCrashes: number;
}

/** The figures and, per figure, what made it (for the report). */
export interface Verdict {
  figures: Figures;
  details: Partial<Record<keyof Figures, string[]>>;
}

/** Workflow statuses still moving on their own: after the drain none may be left. */
const MOVING = new Set(['pending', 'running', 'rolling_back']);
/** Workflow statuses whose lab records are undone: what they point at is not accounted for. */
const UNDONE = new Set(['rolled_back', 'cancelled']);
/** Slack after a down window: pools reconnect on their first query once the database is back. */
export const AFTER_DOWN_GRACE_MS = 3000;

/**
 * Judges an {@link Observation}.
 * @remarks A lab record is an orphan when no instance that keeps its effects
 * (any status but rolled back or cancelled) points at it. Duplicates are
 * live records sharing a natural key (two open billing accounts of one
 * customer, two customers with one e-mail address, …).
 */
export function check(o: Observation): Verdict {
  const details: Verdict['details'] = {};
  const note = (figure: keyof Figures, line: string) => (details[figure] ??= []).push(line);
  const byId = new Map(o.instances.map((i) => [i.id, i]));

  for (const s of o.starts) {
    if (!byId.has(s.instanceId)) note('acknowledgedStartsLost', `${s.machine} ${s.key} → ${s.instanceId} is not in the database`);
  }
  for (const e of o.events) {
    const n = byId.get(e.instanceId)?.eventKeys[e.key] ?? 0;
    if (n === 0 && !e.mayBeNoop) note('acknowledgedEventsLost', `${e.type} ${e.key} on ${e.instanceId} is not in its history`);
    if (n > 1) note('acknowledgedEventsAppliedTwice', `${e.type} ${e.key} on ${e.instanceId} is ${n} times in its history`);
  }

  const startKeys = new Map<string, string>();
  for (const s of o.starts) {
    const seen = startKeys.get(s.key);
    if (seen !== undefined && seen !== s.instanceId)
      note('duplicateInstances', `start ${s.key} acknowledged as ${seen} and ${s.instanceId}`);
    startKeys.set(s.key, s.instanceId);
  }
  const topLevel = new Map<string, string[]>();
  for (const i of o.instances.filter((i) => i.parentId === null)) {
    if (i.idempotencyKey === null) {
      note('duplicateInstances', `${i.machine} ${i.id} was started without a key (every client start has one)`);
      continue;
    }
    topLevel.set(i.idempotencyKey, [...(topLevel.get(i.idempotencyKey) ?? []), i.id]);
  }
  for (const [key, ids] of topLevel)
    if (ids.length > 1) note('duplicateInstances', `${ids.length} instances for key ${key}: ${ids.join(', ')}`);

  for (const i of o.instances) {
    if (i.status === 'active' && MOVING.has(i.workflowStatus)) note('stuckInstances', `${i.machine} ${i.id} still ${i.workflowStatus}`);
    const gap = i.seqs.findIndex((seq, n) => seq !== n + 1);
    if (gap >= 0 || i.seqs.length === 0) note('historyGaps', `${i.machine} ${i.id} history ${summarise(i.seqs)}`);
  }

  const kept = new Set(o.instances.filter((i) => !UNDONE.has(i.workflowStatus)).flatMap((i) => i.refs));
  const naturals = new Map<string, string[]>();
  for (const r of o.lab) {
    if (!kept.has(r.id)) {
      const by = o.instances.filter((i) => i.refs.includes(r.id)).map((i) => `${i.machine} ${i.id} ${i.workflowStatus}`);
      note('labOrphans', `${r.system} ${r.kind} ${r.id}${by.length ? ` (pointed at only by ${by.join(', ')})` : ''}`);
    }
    if (r.natural !== undefined) {
      const at = `${r.system}.${r.kind}:${r.natural}`;
      naturals.set(at, [...(naturals.get(at) ?? []), r.id]);
    }
  }
  for (const [at, ids] of naturals) if (ids.length > 1) note('labDuplicates', `${at} held by ${ids.join(', ')}`);

  for (const e of o.serverErrors) {
    const excused = o.downWindows.some(([from, to]) => e.at >= from && e.at <= to + AFTER_DOWN_GRACE_MS);
    if (!excused) note('serverErrorsWhileUp', `${e.status} on ${e.what} at ${new Date(e.at).toISOString()}`);
  }
  for (const c of o.crashes) note('serverCrashes', c);

  const figure = (k: keyof Figures) => details[k]?.length ?? 0;
  const figures: Figures = {
    acknowledgedStartsLost: figure('acknowledgedStartsLost'),
    acknowledgedEventsLost: figure('acknowledgedEventsLost'),
    acknowledgedEventsAppliedTwice: figure('acknowledgedEventsAppliedTwice'),
    duplicateInstances: figure('duplicateInstances'),
    stuckInstances: figure('stuckInstances'),
    historyGaps: figure('historyGaps'),
    labOrphans: figure('labOrphans'),
    labDuplicates: figure('labDuplicates'),
    serverErrorsWhileUp: figure('serverErrorsWhileUp'),
    serverCrashes: figure('serverCrashes'),
  };
  return { figures, details };
}

/** Whether every figure is 0. */
export function clean(figures: Figures): boolean {
  return Object.values(figures).every((n) => n === 0);
}

function summarise(seqs: number[]): string {
  return seqs.length > 12 ? `${seqs.slice(0, 6).join(',')},…,${seqs.slice(-3).join(',')}` : `[${seqs.join(',')}]`;
}
