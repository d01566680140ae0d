import { RuntimeError } from './errors.ts';
import type { RuntimeObserver } from './observer.ts';
import type { Clock, InstanceStore, PurgeCounts } from './ports.ts';
import type { Registry } from './registry.ts';

/** How long a machine's finished instances are kept, and what happens to them then. */
export interface RetentionPolicy {
  /** Days after an instance's last change (its finish) that it is kept; a whole number from 1 to 36,500. */
  readonly days: number;
  /** `delete` (default) removes the rows; `archive` copies each row to the archive tables first. */
  readonly mode?: 'delete' | 'archive';
}

/** Options of the runtime's retention (`RuntimeOptions.retention`). */
export interface RetentionOptions {
  /** The policy of machines registered without one (none: they are kept forever). */
  readonly default?: RetentionPolicy;
  /** How often retention runs on its own (default 1 h; 0: only on demand). */
  readonly intervalMs?: number;
  /** Instances per batch, each batch one transaction (default 500). */
  readonly batchSize?: number;
}

/** What one rule of a run did: the machines it covered (null: every machine without a policy of its own). */
export interface RetentionRuleReport {
  machines: string[] | null;
  days: number;
  mode: 'delete' | 'archive';
  /** Instances last changed before this were taken. */
  before: string;
  counts: PurgeCounts;
  /** Transactions this rule used (0 for a dry run). */
  batches: number;
}

/** What a run did (or, dry, would do). */
export interface RetentionReport {
  dryRun: boolean;
  tenant: string | null;
  rules: RetentionRuleReport[];
  totals: PurgeCounts;
  /** Transactions used (0 for a dry run). */
  batches: number;
}

const DAY_MS = 86_400_000;
const zero = (): PurgeCounts => ({ instances: 0, events: 0, effects: 0, outbox: 0, tasks: 0, checkpoints: 0 });
const add = (a: PurgeCounts, b: PurgeCounts): PurgeCounts => ({
  instances: a.instances + b.instances,
  events: a.events + b.events,
  effects: a.effects + b.effects,
  outbox: a.outbox + b.outbox,
  tasks: a.tasks + b.tasks,
  checkpoints: a.checkpoints + b.checkpoints,
});

/** @throws RuntimeError `invalid_argument` for a policy that is not `{ days: 1..36500, mode?: 'delete' | 'archive' }`. */
export function checkRetentionPolicy(where: string, p: unknown): asserts p is RetentionPolicy {
  const r = p as RetentionPolicy;
  if (!r || typeof r !== 'object' || !Number.isInteger(r.days) || r.days < 1 || r.days > 36_500)
    throw RuntimeError.invalidArgument(where, 'retention.days must be a whole number of days from 1 to 36500');
  if (r.mode !== undefined && r.mode !== 'delete' && r.mode !== 'archive')
    throw RuntimeError.invalidArgument(where, 'retention.mode must be "delete" or "archive"');
}

/**
 * Retention of finished instances: per machine (`register(machine, { retention })`, else the default), instances
 * whose status is done, error or stopped and whose last change is older than the policy's days are deleted or
 * archived with their history, effects, outbox rows and deliveries, tasks, correlation values and checkpoints, in
 * batches of bounded transactions. Never an active or paused instance, a child whose parent is active, a parent
 * with an active child, or an instance with an outbox delivery pending. Runs on the runtime's clock and on demand.
 */
export class Retention {
  private stopped = false;
  private disarm?: () => void;
  private readonly batchSize: number;
  private readonly intervalMs: number;

  constructor(
    private readonly d: {
      store: InstanceStore;
      registry: Registry;
      clock: Clock;
      options: RetentionOptions;
      onError: (e: unknown) => void;
      track: <T>(p: Promise<T>) => Promise<T>;
      observer: Required<RuntimeObserver>;
    },
  ) {
    const o = d.options;
    if (o.default !== undefined) checkRetentionPolicy('createRuntime', o.default);
    this.batchSize = o.batchSize ?? 500;
    this.intervalMs = o.intervalMs ?? 3_600_000;
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1 || this.batchSize > 10_000)
      throw RuntimeError.invalidArgument('createRuntime', 'retention.batchSize must be a whole number from 1 to 10000');
    if (!Number.isInteger(this.intervalMs) || this.intervalMs < 0)
      throw RuntimeError.invalidArgument('createRuntime', 'retention.intervalMs must be a whole number of ms >= 0');
  }

  /**
   * Runs every rule now, for one tenant or all; a dry run counts what would go and changes nothing.
   * @example
   * const { totals } = await runtime.retention.run({ dryRun: true, tenant: 'acme' });
   */
  async run(options: { tenant?: string; dryRun?: boolean } = {}): Promise<RetentionReport> {
    const purge = this.d.store.purgeFinished?.bind(this.d.store);
    if (!purge) throw new RuntimeError('not_supported', 'This runtime’s store has no retention.');
    const dryRun = options.dryRun === true;
    const now = this.d.clock.now();
    const report: RetentionReport = { dryRun, tenant: options.tenant ?? null, rules: [], totals: zero(), batches: 0 };
    for (const rule of this.rules()) {
      const before = new Date(now.getTime() - rule.days * DAY_MS);
      const req = { tenant: options.tenant, before, mode: rule.mode, limit: this.batchSize, dryRun, now, ...rule.scope };
      let counts = zero();
      let batches = 0;
      for (;;) {
        const batch = await purge(req);
        counts = add(counts, batch);
        if (dryRun) break;
        batches++;
        if (batch.instances > 0) this.d.observer.retention({ mode: rule.mode, tenant: options.tenant ?? null, counts: batch });
        // A short batch was the last; a stopping runtime leaves the rest for the next run.
        if (batch.instances < this.batchSize || this.stopped) break;
      }
      report.rules.push({ machines: rule.machines, days: rule.days, mode: rule.mode, before: before.toISOString(), counts, batches });
      report.totals = add(report.totals, counts);
      report.batches += batches;
    }
    return report;
  }

  /** Starts the periodic run (when the store has retention and the interval is not 0). */
  start(): void {
    if (this.stopped || this.intervalMs === 0 || !this.d.store.purgeFinished) return;
    this.disarm = this.d.clock.schedule(this.intervalMs, () => {
      void this.d.track(
        this.run()
          .catch(this.d.onError)
          .finally(() => this.start()),
      );
    });
  }

  stop(): void {
    this.stopped = true;
    this.disarm?.();
  }

  /** One rule per distinct policy of the registered machines, then the default for every other machine. */
  private rules(): {
    machines: string[] | null;
    days: number;
    mode: 'delete' | 'archive';
    scope: { machineIds?: string[]; exceptMachineIds?: string[] };
  }[] {
    // A machine's policy is that of its newest registered version.
    const policies = new Map<string, RetentionPolicy | false | undefined>();
    for (const reg of this.d.registry.list()) policies.set(reg.id, reg.retention);
    const own = [...policies].filter(([, p]) => p !== undefined);
    const groups = new Map<string, { days: number; mode: 'delete' | 'archive'; machines: string[] }>();
    for (const [id, p] of own) {
      if (!p) continue;
      const mode = p.mode ?? 'delete';
      const key = `${p.days}:${mode}`;
      const g = groups.get(key) ?? { days: p.days, mode, machines: [] };
      g.machines.push(id);
      groups.set(key, g);
    }
    const out: ReturnType<Retention['rules']> = [...groups.values()].map((g) => ({ ...g, scope: { machineIds: g.machines } }));
    const fallback = this.d.options.default;
    if (fallback)
      out.push({
        machines: null,
        days: fallback.days,
        mode: fallback.mode ?? 'delete',
        scope: { exceptMachineIds: own.map(([id]) => id) },
      });
    return out;
  }
}
