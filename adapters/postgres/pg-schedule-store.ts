import type { MikroORM } from '@mikro-orm/postgresql';
import type { ScheduleRecord, ScheduleStore, ScheduleTickUpdate } from '../../runtime/ports.ts';
import { ts } from './sql-values.ts';
import type { Row } from './rows.ts';

const COLUMNS = `tenant, id, machine, input, cron, timezone, overlap, catch_up, paused, origin, next_tick, last_tick,
  last_instance_id, last_outcome, last_error, lease_owner, lease_until, created_at, updated_at`;
const VALUES = `?, ?, ?, ?::jsonb, ?, ?, ?, ?, ?, ?, ?::timestamptz, ?::timestamptz, ?, ?, ?, ?, ?::timestamptz,
  ?::timestamptz, ?::timestamptz`;

/** Schedules in `sk_schedule` (see `runtime/schedules.ts` for what the loop does with them). */
export class PgScheduleStore implements ScheduleStore {
  constructor(private readonly orm: MikroORM) {}

  private async rows(sql: string, params: unknown[]): Promise<Row[]> {
    return (await this.orm.em.getConnection().execute(sql, params, 'all')) as Row[];
  }

  async insertSchedule(r: ScheduleRecord): Promise<boolean> {
    const rows = await this.rows(`insert into sk_schedule (${COLUMNS}) values (${VALUES}) on conflict do nothing returning id`, params(r));
    return rows.length === 1;
  }

  async defineSchedule(r: ScheduleRecord): Promise<ScheduleRecord> {
    // An unchanged definition writes nothing; the next tick moves only when the timing changed; the pause is the operator's.
    await this.rows(
      `insert into sk_schedule as s (${COLUMNS}) values (${VALUES})
       on conflict (tenant, id) do update set machine = excluded.machine, input = excluded.input, cron = excluded.cron,
         timezone = excluded.timezone, overlap = excluded.overlap, catch_up = excluded.catch_up, origin = excluded.origin,
         next_tick = case when (s.cron, s.timezone) is distinct from (excluded.cron, excluded.timezone)
           then excluded.next_tick else s.next_tick end,
         updated_at = excluded.updated_at
       where (s.machine, s.input, s.cron, s.timezone, s.overlap, s.catch_up, s.origin)
         is distinct from (excluded.machine, excluded.input, excluded.cron, excluded.timezone, excluded.overlap,
           excluded.catch_up, excluded.origin)`,
      params(r),
    );
    return (await this.getSchedule(r.tenant, r.id))!;
  }

  async getSchedule(tenant: string, id: string): Promise<ScheduleRecord | undefined> {
    const [row] = await this.rows(`select * from sk_schedule where tenant = ? and id = ?`, [tenant, id]);
    return row ? toSchedule(row) : undefined;
  }

  async listSchedules(tenant: string): Promise<ScheduleRecord[]> {
    return (await this.rows(`select * from sk_schedule where tenant = ? order by id`, [tenant])).map(toSchedule);
  }

  async deleteSchedule(tenant: string, id: string): Promise<boolean> {
    return (await this.rows(`delete from sk_schedule where tenant = ? and id = ? returning id`, [tenant, id])).length === 1;
  }

  async setSchedulePaused(tenant: string, id: string, paused: boolean, nextTick: Date | null, now: Date): Promise<boolean> {
    const rows = await this.rows(
      `update sk_schedule set paused = ?, next_tick = ?::timestamptz, updated_at = ?::timestamptz where tenant = ? and id = ? returning id`,
      [paused, ts(nextTick), ts(now), tenant, id],
    );
    return rows.length === 1;
  }

  async claimDueSchedules(owner: string, now: Date, leaseUntil: Date, limit: number): Promise<ScheduleRecord[]> {
    // SKIP LOCKED: processes polling at once each take different schedules, none waits for another.
    const rows = await this.rows(
      `with due as (
         select tenant, id from sk_schedule
         where not paused and next_tick <= ?::timestamptz and (lease_until is null or lease_until <= ?::timestamptz)
         order by next_tick limit ? for update skip locked)
       update sk_schedule s set lease_owner = ?, lease_until = ?::timestamptz
       from due where s.tenant = due.tenant and s.id = due.id
       returning s.*`,
      [ts(now), ts(now), limit, owner, ts(leaseUntil)],
    );
    return rows.map(toSchedule);
  }

  async finishTicks(
    tenant: string,
    id: string,
    owner: string,
    expected: Date,
    nextTick: Date | null,
    u: ScheduleTickUpdate,
  ): Promise<boolean> {
    // Compare-and-set on the next tick and the lease: a pause, redefinition or takeover meanwhile wins.
    const rows = await this.rows(
      `update sk_schedule set next_tick = ?::timestamptz, last_tick = ?::timestamptz,
         last_instance_id = coalesce(?, last_instance_id), last_outcome = ?, last_error = ?, updated_at = ?::timestamptz,
         lease_owner = null, lease_until = null
       where tenant = ? and id = ? and lease_owner = ? and next_tick = ?::timestamptz returning id`,
      [ts(nextTick), ts(u.lastTick), u.lastInstanceId, u.lastOutcome, u.lastError, ts(u.now), tenant, id, owner, ts(expected)],
    );
    return rows.length === 1;
  }

  async recordTick(tenant: string, id: string, u: ScheduleTickUpdate): Promise<void> {
    await this.rows(
      `update sk_schedule set last_tick = ?::timestamptz, last_instance_id = coalesce(?, last_instance_id), last_outcome = ?,
         last_error = ?, updated_at = ?::timestamptz where tenant = ? and id = ?`,
      [ts(u.lastTick), u.lastInstanceId, u.lastOutcome, u.lastError, ts(u.now), tenant, id],
    );
  }

  async nextScheduleWake(): Promise<Date | undefined> {
    const [row] = await this.rows(
      `select min(greatest(next_tick, coalesce(lease_until, next_tick))) as at from sk_schedule where not paused and next_tick is not null`,
      [],
    );
    return row?.at == null ? undefined : new Date(row.at as string);
  }

  async releaseScheduleLeases(owner: string): Promise<void> {
    await this.rows(`update sk_schedule set lease_owner = null, lease_until = null where lease_owner = ? returning id`, [owner]);
  }
}

function params(r: ScheduleRecord): unknown[] {
  return [
    r.tenant,
    r.id,
    r.machine,
    JSON.stringify(r.input ?? null),
    r.cron,
    r.timezone,
    r.overlap,
    r.catchUp,
    r.paused,
    r.origin,
    ts(r.nextTick),
    ts(r.lastTick),
    r.lastInstanceId,
    r.lastOutcome,
    r.lastError,
    r.leaseOwner,
    ts(r.leaseUntil),
    ts(r.createdAt),
    ts(r.updatedAt),
  ];
}

const date = (v: unknown): Date => (v instanceof Date ? v : new Date(String(v)));
const dateOrNull = (v: unknown): Date | null => (v == null ? null : date(v));

/** Maps an `sk_schedule` row. */
function toSchedule(r: Row): ScheduleRecord {
  return {
    tenant: String(r.tenant),
    id: String(r.id),
    machine: String(r.machine),
    input: r.input ?? null,
    cron: String(r.cron),
    timezone: String(r.timezone),
    overlap: r.overlap as ScheduleRecord['overlap'],
    catchUp: r.catch_up as ScheduleRecord['catchUp'],
    paused: r.paused === true,
    origin: r.origin as ScheduleRecord['origin'],
    nextTick: dateOrNull(r.next_tick),
    lastTick: dateOrNull(r.last_tick),
    lastInstanceId: (r.last_instance_id as string) ?? null,
    lastOutcome: (r.last_outcome as ScheduleRecord['lastOutcome']) ?? null,
    lastError: (r.last_error as string) ?? null,
    leaseOwner: (r.lease_owner as string) ?? null,
    leaseUntil: dateOrNull(r.lease_until),
    createdAt: date(r.created_at),
    updatedAt: date(r.updated_at),
  };
}
