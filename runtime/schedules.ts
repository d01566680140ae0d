import { RuntimeError } from './errors.ts';
import type { Clock, InstanceStore, ScheduleRecord, ScheduleStore, ScheduleTickUpdate } from './ports.ts';
import {
  checkSchedule,
  dueTicks,
  nextTick,
  renderInput,
  upcomingTicks,
  type ScheduleDefinition,
  type ScheduleSpec,
} from './schedule-spec.ts';
import type { Caller, StartOptions, StartResult } from './types.ts';

/** How long a process holds the schedules it claimed (a crashed holder's ticks are taken over after it). */
const LEASE_MS = 60_000;
/** Next ticks shown by a schedule view. */
const SHOWN_TICKS = 5;

/** A schedule as the API and `runtime.schedules` show it. */
export interface ScheduleView
  extends Omit<ScheduleRecord, 'leaseOwner' | 'leaseUntil' | 'nextTick' | 'lastTick' | 'createdAt' | 'updatedAt'> {
  /** The next ticks (ISO-8601 UTC), the first possibly overdue; empty while paused. */
  nextTicks: string[];
  lastTick: string | null;
  createdAt: string;
  updatedAt: string;
}

/** What one tick did. */
export type TickOutcome =
  | { outcome: 'started'; instanceId: string; created: boolean }
  | { outcome: 'skipped'; previousInstanceId: string }
  | { outcome: 'failed'; error: string; cause: unknown };

/** What the schedules need from the runtime: starting and cancelling instances, checking a start input. */
export interface ScheduleDeps {
  readonly store?: ScheduleStore;
  readonly instances: InstanceStore;
  readonly clock: Clock;
  readonly owner: string;
  /** How often other processes' schedules are looked for (0: only at the next known tick). */
  readonly pollIntervalMs: number;
  readonly onError: (e: unknown) => void;
  /** Keeps background work in the set `runtime.settled()` waits for. */
  readonly track: <T>(p: Promise<T>) => Promise<T>;
  readonly start: (o: StartOptions) => Promise<StartResult>;
  readonly cancel: (instanceId: string, tenant: string, reason: string, caller: Caller) => Promise<unknown>;
  /** Resolves the machine and checks the input against its schema (`machine_not_found`, `input_invalid`). */
  readonly checkStart: (machine: string, input: unknown) => Promise<void>;
}

/**
 * Durable cron schedules: each tick starts one instance with the idempotency key `schedule:{id}:{tickISO}`,
 * so a tick run twice (two processes, a crash between the start and the record of it) starts it once.
 * Due schedules are claimed with a lease and their next tick moved by a compare-and-set; the loop runs on
 * the runtime's clock, so a simulation ticks under simulated time.
 */
export class Schedules {
  private stopped = false;
  private disarm?: () => void;
  private armedAt?: number;

  constructor(private readonly d: ScheduleDeps) {}

  /**
   * Declares a schedule from code or configuration; idempotent. An unchanged definition keeps its state (next tick,
   * pause); a changed expression or time zone restarts its ticks from now.
   */
  async define(def: ScheduleDefinition): Promise<ScheduleView> {
    const spec = await this.checked(def);
    const row = await this.store().defineSchedule(this.newRecord(spec, 'code'));
    this.rearm();
    return this.view(row);
  }

  /** Creates a schedule (`schedule_exists` when the tenant has one with that id). */
  async create(def: ScheduleDefinition): Promise<ScheduleView> {
    const spec = await this.checked(def);
    const record = this.newRecord(spec, 'api');
    if (!(await this.store().insertSchedule(record)))
      throw new RuntimeError('schedule_exists', `Schedule "${spec.id}" already exists; delete it first or choose another id.`, {
        scheduleId: spec.id,
      });
    this.rearm();
    return this.view(record);
  }

  async get(id: string, options: { tenant?: string } = {}): Promise<ScheduleView> {
    return this.view(await this.row(id, options.tenant));
  }

  async list(options: { tenant?: string } = {}): Promise<ScheduleView[]> {
    return (await this.store().listSchedules(options.tenant ?? 'default')).map((r) => this.view(r));
  }

  /** Pauses: no tick runs until resumed; idempotent. */
  async pause(id: string, options: { tenant?: string } = {}): Promise<ScheduleView> {
    const r = await this.row(id, options.tenant);
    if (!r.paused) await this.store().setSchedulePaused(r.tenant, r.id, true, r.nextTick, this.d.clock.now());
    return this.get(id, options);
  }

  /** Resumes: the next tick is the first after now (ticks that fell while paused are not run); idempotent. */
  async resume(id: string, options: { tenant?: string } = {}): Promise<ScheduleView> {
    const r = await this.row(id, options.tenant);
    const now = this.d.clock.now();
    if (r.paused) await this.store().setSchedulePaused(r.tenant, r.id, false, nextTick(r, now), now);
    this.rearm();
    return this.get(id, options);
  }

  /**
   * Runs a tick now, outside the schedule (paused or not), under the overlap policy; the next tick stays as it is.
   * A start that fails (input refused, machine gone) is recorded on the schedule and thrown.
   */
  async trigger(id: string, options: { tenant?: string } = {}): Promise<Exclude<TickOutcome, { outcome: 'failed' }>> {
    const r = await this.row(id, options.tenant);
    const tick = this.d.clock.now();
    const result = await this.fire(r, tick, false);
    await this.store().recordTick(r.tenant, r.id, update(tick, result, this.d.clock.now()));
    if (result.outcome === 'failed') throw result.cause;
    return result;
  }

  /** Deletes a schedule; the instances it started stay. */
  async delete(id: string, options: { tenant?: string } = {}): Promise<void> {
    const tenant = options.tenant ?? 'default';
    if (!(await this.store().deleteSchedule(tenant, id))) throw notFound(id);
  }

  /** Start-up: takes back this owner's leases (a restart under the same id), runs what is due, keeps the loop going. */
  async start(): Promise<void> {
    if (!this.d.store) return;
    await this.d.store.releaseScheduleLeases(this.d.owner);
    await this.d.track(this.round());
  }

  /** Stops the loop (a round in flight finishes; `runtime.settled()` waits for it). */
  stop(): void {
    this.stopped = true;
    this.disarm?.();
  }

  /** Releases this process's leases, so another process takes the schedules at once (graceful stop). */
  async releaseLeases(): Promise<void> {
    await this.d.store?.releaseScheduleLeases(this.d.owner);
  }

  /** One round: claim due schedules, run their ticks, arm the next round. */
  private async round(): Promise<void> {
    const store = this.d.store;
    if (this.stopped || !store) return;
    try {
      const now = this.d.clock.now();
      const claimed = await store.claimDueSchedules(this.d.owner, now, new Date(now.getTime() + LEASE_MS), 50);
      for (const s of claimed) await this.runTicks(s, now).catch(this.d.onError);
    } catch (e) {
      this.d.onError(e);
    }
    await this.arm().catch(this.d.onError);
  }

  /** Runs a claimed schedule's due ticks in order, then moves its next tick past now. */
  private async runTicks(s: ScheduleRecord, now: Date): Promise<void> {
    const due = s.nextTick!;
    let last: ScheduleTickUpdate | undefined;
    for (const tick of dueTicks(s, due, now)) {
      const result = await this.fire(s, tick);
      last = update(tick, result, this.d.clock.now());
      if (result.outcome === 'started') s.lastInstanceId = result.instanceId;
      if (last.lastOutcome !== 'started') last = { ...last, lastInstanceId: s.lastInstanceId };
    }
    await this.store().finishTicks(s.tenant, s.id, this.d.owner, due, nextTick(s, now), last!);
  }

  /** One tick: the overlap policy against the instance the previous tick started, then the start under the tick's key. */
  private async fire(s: ScheduleRecord, tick: Date, report = true): Promise<TickOutcome> {
    const key = `schedule:${s.id}:${tick.toISOString()}`;
    const caller: Caller = { id: `schedule:${s.id}` };
    try {
      // Started already (by a process that stopped before recording it): the same instance, the policy was applied then.
      const existing = await this.d.instances.getByIdempotencyKey(s.tenant, key);
      if (existing) return { outcome: 'started', instanceId: existing.id, created: false };
      if (s.overlap !== 'allow' && s.lastInstanceId) {
        const previous = await this.d.instances.get(s.lastInstanceId);
        if (previous?.status === 'active') {
          if (s.overlap === 'skip') return { outcome: 'skipped', previousInstanceId: s.lastInstanceId };
          await this.d.cancel(s.lastInstanceId, s.tenant, `schedule ${s.id}: tick ${tick.toISOString()} replaces it`, caller);
        }
      }
      const input = renderInput(s.input, tick, s);
      const r = await this.d.start({ machine: s.machine, input, tenant: s.tenant, idempotencyKey: key, caller });
      return { outcome: 'started', instanceId: r.id, created: r.created };
    } catch (e) {
      // A tick that cannot start (machine gone, input refused) is recorded and passed: retrying it forever would stall the schedule.
      if (report) this.d.onError(e);
      return { outcome: 'failed', error: e instanceof Error ? e.message : String(e), cause: e };
    }
  }

  /** Arms the next round at the earliest tick (or lease lapse) in the store, polling for other processes' changes. */
  private async arm(): Promise<void> {
    if (this.stopped || !this.d.store) return;
    const wake = await this.d.store.nextScheduleWake();
    const now = this.d.clock.now().getTime();
    let at = wake ? Math.max(now, wake.getTime()) : Number.POSITIVE_INFINITY;
    if (this.d.pollIntervalMs > 0) at = Math.min(at, now + this.d.pollIntervalMs);
    if (!Number.isFinite(at)) return;
    if (this.armedAt !== undefined && this.armedAt <= at) return;
    this.disarm?.();
    this.armedAt = at;
    this.disarm = this.d.clock.schedule(at - now, () => {
      this.armedAt = undefined;
      this.disarm = undefined;
      void this.d.track(this.round());
    });
  }

  /** After a local change: the next round may be earlier than the one armed. */
  private rearm(): void {
    if (!this.stopped) void this.d.track(this.arm().catch(this.d.onError));
  }

  private async checked(def: ScheduleDefinition): Promise<ScheduleSpec> {
    this.store();
    const spec = checkSchedule(def);
    // The template must make an input the machine accepts: refused now rather than at every tick.
    const at = nextTick(spec, this.d.clock.now()) ?? this.d.clock.now();
    await this.d.checkStart(spec.machine, renderInput(spec.input, at, spec));
    return spec;
  }

  private newRecord(spec: ScheduleSpec, origin: ScheduleRecord['origin']): ScheduleRecord {
    const now = this.d.clock.now();
    return {
      ...spec,
      origin,
      nextTick: nextTick(spec, now),
      lastTick: null,
      lastInstanceId: null,
      lastOutcome: null,
      lastError: null,
      leaseOwner: null,
      leaseUntil: null,
      createdAt: now,
      updatedAt: now,
    };
  }

  private async row(id: string, tenant = 'default'): Promise<ScheduleRecord> {
    const r = typeof id === 'string' ? await this.store().getSchedule(tenant, id) : undefined;
    if (!r) throw notFound(id);
    return r;
  }

  private view(r: ScheduleRecord): ScheduleView {
    const { leaseOwner: _o, leaseUntil: _u, nextTick: next, lastTick, createdAt, updatedAt, ...rest } = r;
    const nextTicks = r.paused || !next ? [] : [next, ...upcomingTicks(r, new Date(next.getTime() + 1), SHOWN_TICKS - 1)];
    return {
      ...rest,
      nextTicks: nextTicks.map((t) => t.toISOString()),
      lastTick: lastTick?.toISOString() ?? null,
      createdAt: createdAt.toISOString(),
      updatedAt: updatedAt.toISOString(),
    };
  }

  private store(): ScheduleStore {
    if (!this.d.store) throw new RuntimeError('not_supported', 'This runtime’s store keeps no schedules.');
    return this.d.store;
  }
}

function update(tick: Date, r: TickOutcome, now: Date): ScheduleTickUpdate {
  return {
    lastTick: tick,
    lastInstanceId: r.outcome === 'started' ? r.instanceId : null,
    lastOutcome: r.outcome,
    lastError: r.outcome === 'failed' ? r.error : null,
    now,
  };
}

function notFound(id: string): RuntimeError {
  return new RuntimeError('schedule_not_found', `Schedule "${id}" does not exist (or belongs to another tenant).`, { scheduleId: id });
}
