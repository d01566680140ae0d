import type { ScheduleRecord, ScheduleStore, ScheduleTickUpdate } from './ports.ts';

const clone = <T>(v: T): T => (v === undefined ? v : structuredClone(v));
const key = (tenant: string, id: string) => `${tenant}\u0000${id}`;
const sameTime = (a: Date | null, b: Date | null) => (a?.getTime() ?? null) === (b?.getTime() ?? null);

/** The definition fields of a schedule: what `defineSchedule` compares. */
const DEFINITION = ['machine', 'input', 'cron', 'timezone', 'overlap', 'catchUp', 'origin'] as const;

/**
 * Schedules of simulation mode, with the same rules as `PgScheduleStore`: leases, the compare-and-set
 * on the next tick, the unchanged-definition rule of `defineSchedule`.
 */
export class MemoryScheduleStore implements ScheduleStore {
  private readonly rows = new Map<string, ScheduleRecord>();

  async insertSchedule(r: ScheduleRecord) {
    if (this.rows.has(key(r.tenant, r.id))) return false;
    this.rows.set(key(r.tenant, r.id), clone(r));
    return true;
  }

  async defineSchedule(r: ScheduleRecord) {
    const old = this.rows.get(key(r.tenant, r.id));
    if (!old) {
      this.rows.set(key(r.tenant, r.id), clone(r));
      return clone(r);
    }
    const changed = DEFINITION.some((f) => JSON.stringify(old[f]) !== JSON.stringify(r[f]));
    if (!changed) return clone(old);
    const timing = old.cron !== r.cron || old.timezone !== r.timezone;
    Object.assign(old, clone({ ...pick(r), updatedAt: r.updatedAt }), timing ? { nextTick: r.nextTick } : {});
    return clone(old);
  }

  async getSchedule(tenant: string, id: string) {
    return clone(this.rows.get(key(tenant, id)));
  }

  async listSchedules(tenant: string) {
    return clone([...this.rows.values()].filter((r) => r.tenant === tenant).sort((a, b) => (a.id < b.id ? -1 : 1)));
  }

  async deleteSchedule(tenant: string, id: string) {
    return this.rows.delete(key(tenant, id));
  }

  async setSchedulePaused(tenant: string, id: string, paused: boolean, nextTick: Date | null, now: Date) {
    const r = this.rows.get(key(tenant, id));
    if (!r) return false;
    Object.assign(r, { paused, nextTick, updatedAt: now });
    return true;
  }

  async claimDueSchedules(owner: string, now: Date, leaseUntil: Date, limit: number) {
    const due = [...this.rows.values()]
      .filter((r) => !r.paused && r.nextTick && r.nextTick <= now && !(r.leaseUntil && r.leaseUntil > now))
      .sort((a, b) => a.nextTick!.getTime() - b.nextTick!.getTime())
      .slice(0, limit);
    for (const r of due) Object.assign(r, { leaseOwner: owner, leaseUntil });
    return clone(due);
  }

  async finishTicks(tenant: string, id: string, owner: string, expected: Date, nextTick: Date | null, u: ScheduleTickUpdate) {
    const r = this.rows.get(key(tenant, id));
    if (!r || r.leaseOwner !== owner || !sameTime(r.nextTick, expected)) return false;
    Object.assign(r, tickFields(u), { nextTick, leaseOwner: null, leaseUntil: null });
    return true;
  }

  async recordTick(tenant: string, id: string, u: ScheduleTickUpdate) {
    const r = this.rows.get(key(tenant, id));
    if (r) Object.assign(r, tickFields(u));
  }

  async nextScheduleWake() {
    let best: number | undefined;
    for (const r of this.rows.values()) {
      if (r.paused || !r.nextTick) continue;
      const at = Math.max(r.nextTick.getTime(), r.leaseUntil?.getTime() ?? 0);
      if (best === undefined || at < best) best = at;
    }
    return best === undefined ? undefined : new Date(best);
  }

  async releaseScheduleLeases(owner: string) {
    for (const r of this.rows.values()) if (r.leaseOwner === owner) Object.assign(r, { leaseOwner: null, leaseUntil: null });
  }
}

function pick(r: ScheduleRecord): Partial<ScheduleRecord> {
  return Object.fromEntries(DEFINITION.map((f) => [f, r[f]]));
}

function tickFields(u: ScheduleTickUpdate): Partial<ScheduleRecord> {
  return {
    lastTick: u.lastTick,
    // A skipped or failed tick started nothing: the last instance stays the one overlap is judged against.
    ...(u.lastInstanceId ? { lastInstanceId: u.lastInstanceId } : {}),
    lastOutcome: u.lastOutcome,
    lastError: u.lastError,
    updatedAt: u.now,
  };
}
