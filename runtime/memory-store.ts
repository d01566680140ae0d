import type { CorrelationValues, CorrelationWrite } from './correlation.ts';
import { cancels } from './effect-address.ts';
import { MemoryOutboxStore, type MemoryOutboxRow } from './outbox/memory-outbox-store.ts';
import { openEffect } from './effect-plan.ts';
import { MemoryScheduleStore } from './memory-schedule-store.ts';
import { matchesFilter } from './bulk-filter.ts';
import { MemoryBulkStore } from './memory-bulk-store.ts';
import type { BulkStore, WithBulkStore } from './bulk-types.ts';
import { matchesTask, type TaskChanges, type TaskFilter, type TaskRecord } from './tasks.ts';
import type {
  StoreStats,
  CommitRequest,
  CommitResult,
  CorrelationQuery,
  CreateRequest,
  CreateResult,
  EffectRecord,
  EventRecord,
  InstanceRecord,
  InstanceStore,
  ListFilter,
  NewEffect,
  VersionCount,
  PurgeCounts,
  PurgeRequest,
} from './ports.ts';

const clone = <T>(v: T): T => (v === undefined ? v : structuredClone(v));

/**
 * The store of simulation mode: same semantics as the Postgres store
 * (optimistic versions, atomic commits, effect rows), kept in memory.
 *
 * @remarks Values are deep-copied in and out, as a database would, so a test
 * cannot pass by sharing objects with the store.
 */
export class MemoryStore implements InstanceStore, WithBulkStore {
  private readonly instances = new Map<string, InstanceRecord>();
  private readonly events = new Map<string, EventRecord[]>();
  private readonly effectRows = new Map<string, EffectRecord>();
  private readonly byInstance = new Map<string, Set<string>>();
  private readonly tasks = new Map<string, TaskRecord>();
  /** Longest run time of a finished instance by tenant and machine: a high-water mark that purges do not lower. */
  private readonly longestRuns = new Map<string, number>();
  readonly outbox: MemoryOutboxRow[] = [];
  /** Subscriptions and deliveries; a commit writes the deliveries of its outbox rows. */
  readonly outboxStore = new MemoryOutboxStore(this.outbox);
  /** The correlation index: values by key, per instance (tenant and machine are the instance's). */
  private readonly correlations = new Map<string, Map<string, string>>();
  readonly schedules = new MemoryScheduleStore();
  /** What retention moved away in `archive` mode: each row whole, as the archive tables keep them. */
  readonly archive: { instances: InstanceRecord[]; records: { instanceId: string; kind: string; row: unknown }[] } = {
    instances: [],
    records: [],
  };

  /** Retention, by the rule of `PurgeRequest` (the same as the Postgres function `sk_retention_purge`). */
  async purgeFinished(req: PurgeRequest): Promise<PurgeCounts> {
    const all = [...this.instances.values()];
    const active = (id: string | null) => id !== null && this.instances.get(id)?.status === 'active';
    const picked = all
      .filter(
        (i) =>
          i.status !== 'active' &&
          !i.paused &&
          i.updatedAt < req.before &&
          (req.tenant === undefined || i.tenant === req.tenant) &&
          (!req.machineIds || req.machineIds.includes(i.machineId)) &&
          !req.exceptMachineIds?.includes(i.machineId) &&
          !active(i.parentId) &&
          !all.some((k) => k.parentId === i.id && k.status === 'active') &&
          !this.outboxStore.hasPending(i.id),
      )
      .sort((a, b) => a.updatedAt.getTime() - b.updatedAt.getTime() || (a.id < b.id ? -1 : 1))
      .slice(0, req.dryRun ? undefined : req.limit);
    const ids = new Set(picked.map((i) => i.id));
    const effects = [...this.effectRows.values()].filter((e) => ids.has(e.instanceId));
    const outbox = this.outbox.filter((o) => ids.has(o.instanceId));
    const tasks = [...this.tasks.values()].filter((t) => ids.has(t.instanceId));
    const events = picked.flatMap((i) => this.events.get(i.id) ?? []);
    const counts = { instances: ids.size, events: events.length, effects: effects.length, outbox: outbox.length, tasks: tasks.length };
    if (req.dryRun || ids.size === 0) return { ...counts, checkpoints: 0 };
    const deliveries = this.outboxStore.removeInstances(ids);
    if (req.mode === 'archive') {
      this.archive.instances.push(...clone(picked));
      const rec = (kind: string, rows: { instanceId: string }[]) =>
        rows.map((row) => ({ instanceId: row.instanceId, kind, row: clone(row) }));
      this.archive.records.push(
        ...rec('event', events),
        ...rec('effect', effects),
        ...rec('outbox', outbox),
        ...rec('delivery', deliveries),
        ...rec('task', tasks),
      );
    }
    for (const e of effects) this.effectRows.delete(e.id);
    for (const t of tasks) this.tasks.delete(t.id);
    // In place: the outbox store holds this array.
    for (let i = this.outbox.length - 1; i >= 0; i--) if (ids.has(this.outbox[i]!.instanceId)) this.outbox.splice(i, 1);
    for (const id of ids) {
      this.instances.delete(id);
      this.events.delete(id);
      this.byInstance.delete(id);
      this.correlations.delete(id);
    }
    return { ...counts, checkpoints: 0 };
  }

  async create(req: CreateRequest): Promise<CreateResult> {
    const r = req.record;
    if (this.instances.has(r.id)) return { ok: false, reason: 'exists' };
    if (r.idempotencyKey && [...this.instances.values()].some((i) => i.tenant === r.tenant && i.idempotencyKey === r.idempotencyKey))
      return { ok: false, reason: 'exists' };
    this.instances.set(r.id, { ...clone(r), paused: r.paused ?? false });
    this.noteRun(r);
    // A fork's history up to the entry it was forked from comes first; its own first row follows (seq = its version).
    const prior = (req.priorEvents ?? []).map((e) => ({ ...clone(e), instanceId: r.id }));
    this.events.set(r.id, [
      ...prior,
      { ...clone(req.event), instanceId: r.id, seq: r.version, stateValue: clone(r.stateValue), createdAt: r.createdAt },
    ]);
    this.addEffects(r.id, req.newEffects, r.createdAt);
    this.addOutbox(r.id, r.version, req.outbox, r.createdAt);
    this.writeTasks(r.id, req.tasks, r.createdAt);
    this.writeCorrelation(r.id, req.correlation ?? undefined);
    if (req.startedBy) {
      const parent = this.effectRows.get(req.startedBy);
      if (parent) parent.dueAt = null;
    }
    return { ok: true };
  }

  async commit(req: CommitRequest): Promise<CommitResult> {
    const inst = this.instances.get(req.instanceId);
    if (!inst || inst.version !== req.expectedVersion) return { ok: false, reason: 'version_conflict' };
    if (req.closeEffect && this.effectRows.get(req.closeEffect.id)?.status !== 'pending') return { ok: false, reason: 'effect_closed' };
    const key = req.event.idempotencyKey;
    if (key && this.events.get(req.instanceId)!.some((e) => e.idempotencyKey === key)) return { ok: false, reason: 'duplicate_event' };
    const version = inst.version + 1;
    const { paused, ...change } = req.change;
    Object.assign(
      inst,
      clone(change),
      { version, updatedAt: req.now },
      req.machineVersion ? { machineVersion: req.machineVersion } : {},
      paused === undefined ? {} : { paused },
    );
    this.noteRun(inst);
    this.events.get(req.instanceId)!.push({
      ...clone(req.event),
      instanceId: req.instanceId,
      seq: version,
      stateValue: clone(req.change.stateValue),
      createdAt: req.now,
    });
    if (req.closeEffect) {
      const e = this.effectRows.get(req.closeEffect.id)!;
      // A timer delivered: its send id is free before the transition's own cancels and schedules (as in the statement).
      this.freeSendId(e);
      Object.assign(e, {
        status: req.closeEffect.status,
        result: clone(req.closeEffect.result ?? null),
        error: clone(req.closeEffect.error ?? null),
        closedAt: req.now,
        updatedAt: req.now,
        leaseOwner: null,
        leaseUntil: null,
      });
    }
    const cancelledTimers: string[] = [];
    const superseded = new Set(req.superseded ?? []);
    for (const id of this.byInstance.get(req.instanceId) ?? []) {
      const e = this.effectRows.get(id)!;
      if (e.status === 'pending' && id !== req.closeEffect?.id && cancels(req.cancel, e)) {
        Object.assign(
          e,
          { status: 'cancelled', keyed: false, closedAt: req.now, updatedAt: req.now },
          req.cancelReason ? { error: clone(req.cancelReason) } : {},
        );
        if (e.kind === 'timer') cancelledTimers.push(id);
      } else if (e.status === 'pending' && e.kind === 'timer') {
        if (superseded.has(e.name)) e.keyed = false;
        if (req.releaseTimers) Object.assign(e, { leaseOwner: null, leaseUntil: null });
      }
    }
    this.addEffects(req.instanceId, req.newEffects, req.now);
    this.addOutbox(req.instanceId, version, req.outbox, req.now);
    this.writeTasks(req.instanceId, req.tasks, req.now);
    this.writeCorrelation(req.instanceId, req.correlation);
    return { ok: true, version, ...(cancelledTimers.length ? { cancelledTimers } : {}) };
  }

  async get(id: string) {
    return clone(this.instances.get(id));
  }

  private bulk?: MemoryBulkStore;
  /** Bulk jobs of simulation mode, selecting from this store's instances. */
  bulkStore(): BulkStore {
    this.bulk ??= new MemoryBulkStore(() => this.instances.values());
    return this.bulk;
  }

  async getByIdempotencyKey(tenant: string, key: string) {
    return clone([...this.instances.values()].find((i) => i.tenant === tenant && i.idempotencyKey === key));
  }

  async list(f: ListFilter): Promise<InstanceRecord[]> {
    const rows = [...this.instances.values()].filter(
      (i) =>
        matchesFilter(i, f.tenant, f) &&
        (!f.after || i.createdAt < f.after.createdAt || (i.createdAt.getTime() === f.after.createdAt.getTime() && i.id < f.after.id)),
    );
    rows.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1));
    return clone(rows.slice(0, f.limit));
  }

  async history(instanceId: string, afterSeq: number, limit: number) {
    return clone((this.events.get(instanceId) ?? []).filter((e) => e.seq > afterSeq).slice(0, limit));
  }

  async eventByIdempotencyKey(instanceId: string, key: string) {
    return clone((this.events.get(instanceId) ?? []).find((e) => e.idempotencyKey === key));
  }

  async effects(instanceId: string) {
    return clone([...(this.byInstance.get(instanceId) ?? [])].map((id) => this.effectRows.get(id)!));
  }

  async getEffect(id: string) {
    return clone(this.effectRows.get(id));
  }

  async claimDue(owner: string, now: Date, dueBefore: Date, leaseUntil: Date, limit: number) {
    const claimed: EffectRecord[] = [];
    // In due order, ties in creation order, as the Postgres store claims them (the sort is stable).
    const candidates = [...this.effectRows.values()].filter((e) => e.status === 'pending' && e.dueAt);
    candidates.sort((a, b) => a.dueAt!.getTime() - b.dueAt!.getTime());
    for (const e of candidates) {
      if (claimed.length >= limit) break;
      if (e.status !== 'pending' || !e.dueAt || e.dueAt > (e.kind === 'timer' ? dueBefore : now)) continue;
      if (e.leaseUntil && e.leaseUntil > now) continue;
      // A paused instance's effects wait for its resume; those of an instance in error, for an operator retry.
      const instance = this.instances.get(e.instanceId);
      if (instance?.paused || instance?.status === 'error') continue;
      const previousOwner = e.leaseOwner;
      Object.assign(e, { leaseOwner: owner, leaseUntil, updatedAt: now });
      claimed.push({ ...clone(e), previousOwner });
    }
    return claimed;
  }

  async finishedChildren(limit: number) {
    const out: { effect: EffectRecord; child: InstanceRecord }[] = [];
    for (const e of this.effectRows.values()) {
      if (out.length >= limit) break;
      const child = e.kind === 'child' && e.status === 'pending' ? this.instances.get(e.id) : undefined;
      if (child && child.status !== 'active') out.push(clone({ effect: e, child }));
    }
    return out;
  }

  async releaseAttempt(effectId: string, attempt: number, now: Date) {
    const e = this.effectRows.get(effectId);
    if (e?.status === 'pending' && e.attempts === attempt) Object.assign(e, { attempts: attempt - 1, updatedAt: now });
  }

  async recordAttempt(effectId: string, attempt: number, now: Date) {
    const e = this.effectRows.get(effectId);
    if (e?.status !== 'pending') return false;
    Object.assign(e, { attempts: Math.max(e.attempts, attempt), updatedAt: now });
    return true;
  }

  async scheduleRetry(effectId: string, attempts: number, dueAt: Date, leaseUntil: Date | null, lastError: unknown, now: Date) {
    const e = this.effectRows.get(effectId);
    if (e?.status === 'pending') Object.assign(e, { attempts, dueAt, leaseUntil, lastError: clone(lastError), updatedAt: now });
  }

  async closeEffect(id: string, status: 'done' | 'failed' | 'cancelled', error: unknown, now: Date) {
    const e = this.effectRows.get(id);
    if (e?.status !== 'pending') return false;
    this.freeSendId(e);
    Object.assign(e, { status, error: clone(error), closedAt: now, updatedAt: now });
    return true;
  }

  async renewLeases(owner: string, ids: readonly string[], leaseUntil: Date) {
    const renewed: string[] = [];
    for (const id of ids) {
      const e = this.effectRows.get(id);
      if (e?.status === 'pending' && e.leaseOwner === owner) (e.leaseUntil = leaseUntil), renewed.push(id);
    }
    return renewed;
  }

  /** A timer fired (its row is being closed): no open timer of its instance holds its send id any more. */
  private freeSendId(fired: EffectRecord) {
    if (fired.kind !== 'timer') return;
    for (const id of this.byInstance.get(fired.instanceId) ?? []) {
      const e = this.effectRows.get(id)!;
      if (e.kind === 'timer' && e.name === fired.name) e.keyed = false;
    }
  }

  async releaseLeases(owner: string) {
    for (const e of this.effectRows.values())
      if (e.leaseOwner === owner && e.status === 'pending') Object.assign(e, { leaseOwner: null, leaseUntil: null });
  }

  async stats(tenant: string): Promise<StoreStats> {
    const mine = [...this.instances.values()].filter((i) => i.tenant === tenant);
    const ids = new Set(mine.map((i) => i.id));
    const count = <K extends string>(keys: K[]) => {
      const m = new Map<K, number>();
      for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
      return m;
    };
    // Sorted by their keys in code-point order, as the Postgres store returns them (collate "C").
    const order = <T>(rows: T[], keys: (r: T) => string[]) =>
      rows.sort((x, y) => {
        const [a, b] = [keys(x), keys(y)];
        const n = a.findIndex((k, i) => k !== b[i]);
        return n < 0 ? 0 : a[n]! < b[n]! ? -1 : 1;
      });
    const instances = [...count(mine.map((i) => `${i.machineId}\u0000${i.status}`))].map(([k, n]) => {
      const [machineId, status] = k.split('\u0000') as [string, InstanceRecord['status']];
      return { machineId, status, count: n };
    });
    const stepRows = [...this.effectRows.values()].filter((e) => e.kind === 'step' && ids.has(e.instanceId));
    const steps = [...new Set(stepRows.map((e) => e.target ?? e.name))].map((name) => {
      const rows = stepRows.filter((e) => (e.target ?? e.name) === name);
      return {
        name,
        total: rows.length,
        failed: rows.filter((e) => e.status === 'failed').length,
        retries: rows.reduce((a, e) => a + Math.max(0, e.attempts - 1), 0),
      };
    });
    const finished = mine.filter((i) => i.status !== 'active');
    const outcomes = [
      ...count(
        finished
          .filter((i) => typeof (i.output as { outcome?: unknown })?.outcome === 'string')
          .map((i) => `${i.machineId}\u0000${(i.output as { outcome: string }).outcome}`),
      ),
    ].map(([k, n]) => {
      const [machineId, outcome] = k.split('\u0000') as [string, string];
      return { machineId, outcome, count: n };
    });
    const durations = [...new Set(finished.map((i) => i.machineId))].map((machineId) => {
      const ms = finished.filter((i) => i.machineId === machineId).map((i) => i.updatedAt.getTime() - i.createdAt.getTime());
      // The longest run seen, including instances since purged (as the Postgres counters keep it).
      const maxMs = this.longestRuns.get(`${tenant}\u0000${machineId}`)!;
      return { machineId, finished: ms.length, meanMs: ms.reduce((a, b) => a + b, 0) / ms.length, maxMs };
    });
    return {
      instances: order(instances, (r) => [r.machineId, r.status]),
      steps: order(steps, (r) => [r.name]),
      outcomes: order(outcomes, (r) => [r.machineId, r.outcome]),
      durations: order(durations, (r) => [r.machineId]),
    };
  }

  /** Keeps the high-water mark of a finished instance's run time, by tenant and machine (see `StoreStats.durations`). */
  private noteRun(i: InstanceRecord) {
    if (i.status === 'active') return;
    const key = `${i.tenant}\u0000${i.machineId}`;
    this.longestRuns.set(
      key,
      Math.max(this.longestRuns.get(key) ?? Number.NEGATIVE_INFINITY, i.updatedAt.getTime() - i.createdAt.getTime()),
    );
  }

  async countByVersion(tenant: string, machineId: string): Promise<VersionCount[]> {
    const counts = new Map<string, VersionCount>();
    for (const i of this.instances.values()) {
      if (i.tenant !== tenant || i.machineId !== machineId) continue;
      const key = `${i.machineVersion}\u0000${i.status}`;
      const c = counts.get(key) ?? { version: i.machineVersion, status: i.status, count: 0 };
      c.count++;
      counts.set(key, c);
    }
    return [...counts.values()].sort((a, b) => a.version.localeCompare(b.version) || a.status.localeCompare(b.status));
  }

  async listTasks(f: TaskFilter): Promise<TaskRecord[]> {
    const rows = [...this.tasks.values()].filter((t) => matchesTask(t, f));
    rows.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : 1));
    return clone(rows.slice(0, f.limit));
  }

  async getTask(id: string) {
    return clone(this.tasks.get(id));
  }

  async claimTask(id: string, from: string | null, to: string | null, now: Date) {
    const t = this.tasks.get(id);
    if (t?.status !== 'open' || t.claimedBy !== from) return false;
    this.tasks.set(id, { ...t, claimedBy: to, claimedAt: to === null ? null : now });
    return true;
  }

  async findCorrelated(q: CorrelationQuery): Promise<string[]> {
    const ids: string[] = [];
    for (const [id, values] of this.correlations) {
      const i = this.instances.get(id);
      if (i?.status !== 'active' || i.tenant !== q.tenant || (q.machineId && i.machineId !== q.machineId)) continue;
      if (values.get(q.key) === q.value) ids.push(id);
    }
    return ids.sort().slice(0, q.limit);
  }

  async close() {}

  /** As the commit statement does: `null` removes the instance's rows, values replace them. */
  private writeCorrelation(instanceId: string, write: CorrelationWrite) {
    if (write === undefined) return;
    if (write === null) this.correlations.delete(instanceId);
    else this.correlations.set(instanceId, new Map(Object.entries(write as CorrelationValues)));
  }

  /** Closes the open tasks of the states left, then opens those of the states entered (as the commit statement does). */
  private writeTasks(instanceId: string, changes: TaskChanges | undefined, now: Date) {
    if (!changes) return;
    for (const c of changes.close)
      for (const [id, t] of this.tasks)
        if (t.instanceId === instanceId && t.state === c.state && t.status === 'open')
          this.tasks.set(id, { ...t, status: c.status, closedAt: now, closedBy: changes.actor });
    for (const t of changes.open) {
      if (this.tasks.has(t.id)) continue;
      const row: TaskRecord = {
        ...clone(t),
        instanceId,
        status: 'open',
        claimedBy: null,
        claimedAt: null,
        createdAt: now,
        closedAt: null,
        closedBy: null,
      };
      this.tasks.set(t.id, row);
    }
  }

  private addEffects(instanceId: string, effects: NewEffect[], now: Date) {
    const set = this.byInstance.get(instanceId) ?? new Set<string>();
    for (const e of effects) {
      this.effectRows.set(e.id, openEffect(clone(e), instanceId, now));
      set.add(e.id);
    }
    this.byInstance.set(instanceId, set);
  }

  private addOutbox(instanceId: string, seq: number, items: { type: string; payload: unknown }[], now: Date) {
    const tenant = this.instances.get(instanceId)!.tenant;
    for (const m of items) {
      const row = { id: this.outbox.length + 1, instanceId, seq, type: m.type, payload: clone(m.payload), createdAt: now };
      this.outbox.push({ ...row, publishedAt: null, attempts: 0 });
      this.outboxStore.fanOut(this.outbox.at(-1)!, tenant);
    }
  }
}
