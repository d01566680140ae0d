import type { MikroORM } from '@mikro-orm/postgresql';
import { filterFromStored, storedFilter } from '../../runtime/bulk-filter.ts';
import { MAX_REPORTED_FAILURES, type BulkFilter, type BulkJobRecord, type BulkProgress, type BulkStore } from '../../runtime/bulk-types.ts';
import { ts } from './sql-values.ts';
import { instanceConditions } from './instance-filter-sql.ts';
import type { Row } from './rows.ts';

const date = (v: unknown): Date => (v instanceof Date ? v : new Date(String(v)));
const dateOrNull = (v: unknown): Date | null => (v == null ? null : date(v));

/**
 * Bulk jobs on PostgreSQL (`sk_bulk_job`) and the selection of the instances they take.
 *
 * @remarks Every write is one short statement: a batch's progress, counts, failures and cursor together, checked
 * against the job's status and lease owner, so a cancelled or taken-over job is never written by a late batch.
 * Instances are selected in primary-key order after the cursor (keyset pagination): a page costs the same at
 * the start of a job as at its end, and instances created meanwhile are taken when they sort after the cursor.
 */
export class PgBulkStore implements BulkStore {
  constructor(private readonly orm: MikroORM) {}

  private rows(sql: string, params: unknown[]): Promise<Row[]> {
    return this.orm.em.getConnection().execute(sql, params, 'all') as Promise<Row[]>;
  }

  async countMatching(tenant: string, filter: BulkFilter, sample: number) {
    const { where, params } = instanceConditions(tenant, filter);
    const cond = where.join(' and ');
    const [[count], ids] = await Promise.all([
      this.rows(`select count(*)::int as n from sk_instance where ${cond}`, params),
      sample > 0 ? this.rows(`select id from sk_instance where ${cond} order by id limit ?`, [...params, sample]) : Promise.resolve([]),
    ]);
    return { count: Number(count?.n ?? 0), sample: ids.map((r) => String(r.id)) };
  }

  async matchingIds(tenant: string, filter: BulkFilter, afterId: string | null, limit: number) {
    const { where, params } = instanceConditions(tenant, filter);
    if (afterId !== null) where.push('id > ?'), params.push(afterId);
    const rows = await this.rows(`select id from sk_instance where ${where.join(' and ')} order by id limit ?`, [...params, limit]);
    return rows.map((r) => String(r.id));
  }

  async createJob(j: BulkJobRecord) {
    await this.rows(
      `insert into sk_bulk_job (id, tenant, action, filter, params, reason, actor, status, total, done, failed, skipped, cursor,
          failures, lease_owner, lease_until, cancelled_by, created_at, updated_at, finished_at)
       values (?, ?, ?, ?::jsonb, ?::jsonb, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?, ?::timestamptz, ?, ?::timestamptz, ?::timestamptz,
          ?::timestamptz)`,
      [
        ...[j.id, j.tenant, j.action, JSON.stringify(storedFilter(j.filter)), JSON.stringify(j.params), j.reason, j.actor, j.status],
        ...[j.total, j.done, j.failed, j.skipped, j.cursor, JSON.stringify(j.failures), j.leaseOwner, ts(j.leaseUntil)],
        ...[j.cancelledBy, ts(j.createdAt), ts(j.updatedAt), ts(j.finishedAt)],
      ],
    );
  }

  async getJob(id: string) {
    const [row] = await this.rows(`select * from sk_bulk_job where id = ?`, [id]);
    return row ? toJob(row) : undefined;
  }

  async listJobs(tenant: string, limit: number, after?: { createdAt: Date; id: string }) {
    const rows = after
      ? await this.rows(
          `select * from sk_bulk_job where tenant = ? and (created_at, id) < (?::timestamptz, ?) order by created_at desc, id desc limit ?`,
          [tenant, ts(after.createdAt), after.id, limit],
        )
      : await this.rows(`select * from sk_bulk_job where tenant = ? order by created_at desc, id desc limit ?`, [tenant, limit]);
    return rows.map(toJob);
  }

  async claimJob(owner: string, now: Date, leaseUntil: Date) {
    // SKIP LOCKED: processes looking for work at the same time take different jobs, or none.
    const [row] = await this.rows(
      `with free as (
         select id from sk_bulk_job where status = 'running' and (lease_until is null or lease_until < ?::timestamptz)
         order by created_at limit 1 for update skip locked)
       update sk_bulk_job j set lease_owner = ?, lease_until = ?::timestamptz, updated_at = ?::timestamptz
       from free where j.id = free.id returning j.*`,
      [ts(now), owner, ts(leaseUntil), ts(now)],
    );
    return row ? toJob(row) : undefined;
  }

  async saveProgress(id: string, owner: string, p: BulkProgress) {
    // A batch cancelled while in hand is still counted (its instances were acted on); the job then stops.
    // In SET, "status" is the value before this update.
    const [row] = await this.rows(
      `update sk_bulk_job set cursor = ?, done = done + ?, failed = failed + ?, skipped = skipped + ?,
          failures = case when jsonb_array_length(failures) >= ? then failures
            else (select coalesce(jsonb_agg(f order by n), '[]'::jsonb) from (
              select f, n from jsonb_array_elements(failures || ?::jsonb) with ordinality as x(f, n) order by n limit ?) s) end,
          status = case when status = 'running' and ? then 'completed' else status end,
          lease_owner = case when status <> 'running' or ? then null else lease_owner end,
          lease_until = case when status <> 'running' or ? then null else ?::timestamptz end,
          finished_at = case when status = 'running' and ? then ?::timestamptz else finished_at end, updated_at = ?::timestamptz
       where id = ? and lease_owner = ? returning status`,
      [
        p.cursor,
        p.done,
        p.failed,
        p.skipped,
        MAX_REPORTED_FAILURES,
        JSON.stringify(p.failures),
        MAX_REPORTED_FAILURES,
        p.finished,
        p.finished,
        p.finished,
        ts(p.leaseUntil),
        p.finished,
        ts(p.now),
        ts(p.now),
        id,
        owner,
      ],
    );
    return row?.status === 'running';
  }

  async releaseJob(id: string, owner: string) {
    await this.rows(`update sk_bulk_job set lease_owner = null, lease_until = null where id = ? and lease_owner = ? returning id`, [
      id,
      owner,
    ]);
  }

  async cancelJob(id: string, tenant: string, actor: string | null, now: Date) {
    const [row] = await this.rows(
      `with cancelled as (
         -- The lease stays with the process running it, which records the batch in hand and stops.
         update sk_bulk_job set status = 'cancelled', cancelled_by = ?, finished_at = ?::timestamptz, updated_at = ?::timestamptz
         where id = ? and tenant = ? and status = 'running' returning *)
       select * from cancelled union all select * from sk_bulk_job where id = ? and tenant = ? and not exists (select 1 from cancelled)`,
      [actor, ts(now), ts(now), id, tenant, id, tenant],
    );
    return row ? toJob(row) : undefined;
  }
}

function toJob(r: Row): BulkJobRecord {
  return {
    id: String(r.id),
    tenant: String(r.tenant),
    action: r.action as BulkJobRecord['action'],
    filter: filterFromStored(r.filter as Record<string, unknown>),
    params: (r.params as BulkJobRecord['params']) ?? {},
    reason: (r.reason as string) ?? null,
    actor: (r.actor as string) ?? null,
    status: r.status as BulkJobRecord['status'],
    total: Number(r.total),
    done: Number(r.done),
    failed: Number(r.failed),
    skipped: Number(r.skipped),
    cursor: (r.cursor as string) ?? null,
    failures: (r.failures as BulkJobRecord['failures']) ?? [],
    leaseOwner: (r.lease_owner as string) ?? null,
    leaseUntil: dateOrNull(r.lease_until),
    cancelledBy: (r.cancelled_by as string) ?? null,
    createdAt: date(r.created_at),
    updatedAt: date(r.updated_at),
    finishedAt: dateOrNull(r.finished_at),
  };
}
