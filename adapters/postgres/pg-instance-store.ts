import { randomUUID } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Pool } from 'pg';
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
  PurgeCounts,
  PurgeRequest,
  VersionCount,
  Wakeups,
} from '../../runtime/ports.ts';
import type { CommitBatchInfo } from '../../runtime/observer.ts';
import { CommitBatcher } from './commit-batcher.ts';
import { GroupWriter } from './group-writer.ts';
import { PgScheduleStore } from './pg-schedule-store.ts';
import { PlanRefresh } from './plan-refresh.ts';

/** Records the attempts about to be made of open steps; returns the ids that were still open. */
const RECORD_ATTEMPTS_SQL = `update sk_effect e set attempts = greatest(e.attempts, r.attempt), updated_at = r.at
  from jsonb_to_recordset($1::jsonb) as r(id text, attempt int, at timestamptz)
  where e.id = r.id and e.status = 'pending'
  returning e.id`;
import { json, ts } from './sql-values.ts';
import { encodeWakeup, WAKEUP_CHANNEL } from './pg-notifier.ts';
import { toEffect, toEvent, toInstance, toTask, type Row } from './rows.ts';
import { instanceConditions } from './instance-filter-sql.ts';
import { PgBulkStore } from './pg-bulk-store.ts';
import { STATS_SQL } from './stats-counters.ts';
import type { BulkStore, WithBulkStore } from '../../runtime/bulk-types.ts';
import type { TaskFilter, TaskRecord } from '../../runtime/tasks.ts';

/** Options of {@link PgInstanceStore}. */
export interface PgInstanceStoreOptions {
  /**
   * Statements carrying commits in flight at once (default 2); more: batches smaller, fewer: batches larger.
   * A lone commit goes out at once whatever the limit, so this bounds only how load is grouped. With 64
   * workflows in flight on 2 cores, 2 statements gave 1.3-1.5x the throughput of 4, and 8 or 16 less still:
   * every statement pays its round trip, WAL flush and NOTIFY, and concurrent ones contend for them.
   */
  readonly maxConcurrentWrites?: number;
  readonly onCommitBatch?: (b: CommitBatchInfo) => void;
  readonly origin?: string;
  /**
   * Run the hot-path statements as named prepared statements, planned once per connection (default: true,
   * unless `DATABASE_PREPARED_STATEMENTS=off`). Turn off behind a pooler that hands a client a different
   * server connection per transaction and does not track prepared statements (PgBouncer before 1.21 in
   * transaction mode): the statements are then unnamed and planned on every execution.
   */
  readonly namedStatements?: boolean;
  /**
   * Numbers of instances created by this store at which the named statements' cached plans are made again
   * (default 1,000, 10,000 and 100,000): plans made on near-empty tables would otherwise read them in full
   * until autovacuum analyzes them (plan-refresh.ts).
   */
  readonly planRefreshAt?: readonly number[];
}

/**
 * The runtime's store on PostgreSQL through MikroORM's connection.
 *
 * @remarks The per-event hot path is ONE statement: the optimistic snapshot
 * update, the history insert, effect inserts/closes/cancels and outbox rows
 * are data-modifying CTEs chained on the update's `RETURNING`, so either all
 * happen or none (a version conflict inserts nothing). Against an explicit
 * BEGIN / 3 statements / COMMIT it saves four round trips; concurrent events
 * of different instances are grouped into one statement (see CommitBatcher).
 */
export class PgInstanceStore implements InstanceStore, WithBulkStore {
  private readonly batcher: CommitBatcher;
  private pool?: Pool;
  /** Signs this store's change announcements, so that this process's notifier (`PgNotifier`) skips its own. */
  readonly origin: string;
  /** Durable schedules, on the same connection pool. */
  readonly schedules: PgScheduleStore;

  /** Hot-path statements run as named prepared statements (see {@link PgInstanceStoreOptions.namedStatements}). */
  private readonly named: boolean;
  /** When their cached plans are made again, as the store grows (plan-refresh.ts). */
  private readonly plans: PlanRefresh;

  constructor(
    private readonly orm: MikroORM,
    options: PgInstanceStoreOptions = {},
  ) {
    this.origin = options.origin ?? randomUUID();
    this.named = options.namedStatements ?? process.env.DATABASE_PREPARED_STATEMENTS !== 'off';
    this.plans = new PlanRefresh(options.planRefreshAt);
    this.schedules = new PgScheduleStore(orm);
    this.batcher = new CommitBatcher(
      (stmt) => this.prepared(stmt),
      options.maxConcurrentWrites ?? 2,
      48,
      options.onCommitBatch,
      this.origin,
    );
  }

  private get conn() {
    return this.orm.em.getConnection();
  }

  private async rows(sql: string, params: unknown[]): Promise<Row[]> {
    return (await this.conn.execute(sql, params, 'all')) as Row[];
  }

  /**
   * Runs a write statement as a named prepared statement on MikroORM's own pg
   * pool, with its jsonb argument bound (not inlined): planned once per
   * connection, no escaping of the request on the hot path.
   */
  private async prepared(stmt: { name: string; sql: string; params: unknown[] }): Promise<Row[]> {
    this.pool ??= await this.orm.em.getConnection().getNativeClient();
    // Unnamed statements are planned at every run: nothing cached can be stale.
    if (!this.named) return (await this.pool.query({ text: stmt.sql, values: stmt.params })).rows as Row[];
    const client = await this.pool.connect();
    let failed: Error | undefined;
    try {
      if (this.plans.stale(client)) await client.query('discard plans');
      return (await client.query({ name: stmt.name, text: stmt.sql, values: stmt.params })).rows as Row[];
    } catch (e) {
      failed = e as Error;
      throw e;
    } finally {
      // As pool.query does: a client whose statement failed is not reused.
      client.release(failed);
    }
  }

  /**
   * Counts the instances other processes create, from their announcements on `wakeups` (an instance's first commit
   * announces version 2; creates are not announced), so that this store's cached plans are made again as
   * `sk_instance` grows even when it creates few instances itself (plan-refresh.ts). Its own announcements are not
   * heard. Returns the unsubscribe function.
   */
  followGrowth(wakeups: Wakeups): () => void {
    return wakeups.subscribe((w) => {
      if (w.kind === 'instance' && w.version === 2) this.plans.created(1);
    });
  }

  async create(req: CreateRequest): Promise<CreateResult> {
    const res = await this.batcher.submit<CreateResult>({ kind: 'create', req });
    if (res.ok) this.plans.created(1);
    return res;
  }

  async commit(req: CommitRequest): Promise<CommitResult> {
    try {
      return await this.batcher.submit<CommitResult>({ kind: 'commit', req });
    } catch (e) {
      if (isUniqueViolation(e, 'sk_event_instance_id_idempotency_key_unique')) return { ok: false, reason: 'duplicate_event' };
      throw e;
    }
  }

  private bulk?: PgBulkStore;
  /** Bulk jobs on the same database (`sk_bulk_job`), selecting from `sk_instance`. */
  bulkStore(): BulkStore {
    this.bulk ??= new PgBulkStore(this.orm);
    return this.bulk;
  }

  async get(id: string): Promise<InstanceRecord | undefined> {
    const [row] = await this.rows(`select * from sk_instance where id = ?`, [id]);
    return row ? toInstance(row) : undefined;
  }

  async getByIdempotencyKey(tenant: string, key: string): Promise<InstanceRecord | undefined> {
    const [row] = await this.rows(`select * from sk_instance where tenant = ? and idempotency_key = ?`, [tenant, key]);
    return row ? toInstance(row) : undefined;
  }

  async list(f: ListFilter): Promise<InstanceRecord[]> {
    const { where, params } = instanceConditions(f.tenant, f);
    const add = (cond: string, ...values: unknown[]) => (where.push(cond), params.push(...values));
    if (f.after) add('(created_at, id) < (?::timestamptz, ?)', ts(f.after.createdAt), f.after.id);
    params.push(f.limit);
    const rows = await this.rows(
      `select * from sk_instance where ${where.join(' and ')} order by created_at desc, id desc limit ?`,
      params,
    );
    return rows.map(toInstance);
  }

  async history(instanceId: string, afterSeq: number, limit: number): Promise<EventRecord[]> {
    const rows = await this.rows(`select * from sk_event where instance_id = ? and seq > ? order by seq limit ?`, [
      instanceId,
      afterSeq,
      limit,
    ]);
    return rows.map(toEvent);
  }

  async eventByIdempotencyKey(instanceId: string, key: string): Promise<EventRecord | undefined> {
    const [row] = await this.rows(`select * from sk_event where instance_id = ? and idempotency_key = ?`, [instanceId, key]);
    return row ? toEvent(row) : undefined;
  }

  async effects(instanceId: string): Promise<EffectRecord[]> {
    const rows = await this.rows(`select * from sk_effect where instance_id = ? order by seq`, [instanceId]);
    return rows.map(toEffect);
  }

  async getEffect(id: string): Promise<EffectRecord | undefined> {
    const [row] = await this.rows(`select * from sk_effect where id = ?`, [id]);
    return row ? toEffect(row) : undefined;
  }

  async claimDue(owner: string, now: Date, dueBefore: Date, leaseUntil: Date, limit: number): Promise<EffectRecord[]> {
    // SKIP LOCKED: several processes poll at once without blocking or double-claiming.
    const rows = await this.rows(
      // Returned in due order, ties in creation order (seq): timers due at the same instant are armed,
      // and so fire, in the order XState scheduled them.
      // The previous lease owner is returned too: a claim of an expired lease of another process is a takeover.
      `with due as (
         select id, lease_owner from sk_effect
         where status = 'pending' and due_at <= ?::timestamptz
           and due_at <= case when kind = 'timer' then ?::timestamptz else ?::timestamptz end
           and (lease_until is null or lease_until < ?::timestamptz)
           -- A paused instance's effects wait for its resume, those of an instance in error (quarantined) for an
           -- operator retry: claimed, they would only be run into the error and left open for the next claim.
           -- One primary-key probe per candidate row.
           and not exists (select 1 from sk_instance i where i.id = sk_effect.instance_id and (i.paused or i.status = 'error'))
         order by due_at, seq limit ? for update skip locked
       ), claimed as (
         update sk_effect e set lease_owner = ?, lease_until = ?::timestamptz, updated_at = ?::timestamptz
         from due where e.id = due.id
         returning e.*, due.lease_owner as previous_owner)
       select * from claimed order by due_at, seq`,
      [ts(dueBefore), ts(dueBefore), ts(now), ts(now), limit, owner, ts(leaseUntil), ts(now)],
    );
    return rows.map((r) => ({ ...toEffect(r), previousOwner: (r.previous_owner as string | null) ?? null }));
  }

  async finishedChildren(limit: number): Promise<{ effect: EffectRecord; child: InstanceRecord }[]> {
    // One query each poll: the child instance's id is its parent's child-effect id.
    const rows = await this.rows(
      `select to_jsonb(e) as effect, to_jsonb(c) as child from sk_effect e join sk_instance c on c.id = e.id
       where e.kind = 'child' and e.status = 'pending' and c.status <> 'active' limit ?`,
      [limit],
    );
    return rows.map((r) => ({ effect: toEffect(r.effect as Row), child: toInstance(r.child as Row) }));
  }

  async recordAttempt(effectId: string, attempt: number, now: Date): Promise<boolean> {
    // Committed before the call is made: a call cut short by a crash counts, a claim that never called does not.
    // Attempts starting together (many steps in flight) are recorded by one statement.
    return this.attempts.submit({ id: effectId, attempt, at: ts(now) });
  }

  async releaseAttempt(effectId: string, attempt: number, now: Date): Promise<void> {
    await this.conn.execute(
      `update sk_effect set attempts = attempts - 1, updated_at = ?::timestamptz where id = ? and attempts = ? and status = 'pending'`,
      [ts(now), effectId, attempt],
      'run',
    );
  }

  private readonly attempts = new GroupWriter<{ id: string; attempt: number; at: string | null }, boolean>(async (reqs) => {
    const rows = await this.prepared({ name: 'sk_record_attempts_v1', sql: RECORD_ATTEMPTS_SQL, params: [JSON.stringify(reqs)] });
    const open = new Set(rows.map((r) => String(r.id)));
    return reqs.map((r) => open.has(r.id));
  });

  async scheduleRetry(
    effectId: string,
    attempts: number,
    dueAt: Date,
    leaseUntil: Date | null,
    lastError: unknown,
    now: Date,
  ): Promise<void> {
    await this.conn.execute(
      `update sk_effect set attempts = ?, due_at = ?::timestamptz, lease_until = ?::timestamptz, last_error = ?::jsonb,
          updated_at = ?::timestamptz where id = ? and status = 'pending'`,
      [attempts, ts(dueAt), ts(leaseUntil), json(lastError), ts(now), effectId],
      'run',
    );
  }

  async closeEffect(id: string, status: 'done' | 'failed' | 'cancelled', error: unknown, now: Date): Promise<boolean> {
    // A timer closed here has fired: its send id is freed, as the commit statement does for a delivered timer.
    const [row] = await this.rows(
      `with closed as (
         update sk_effect set status = ?, error = ?::jsonb, closed_at = ?::timestamptz, updated_at = ?::timestamptz,
           lease_owner = null, lease_until = null, keyed = false
         where id = ? and status = 'pending' returning id, instance_id, kind, name
       ), freed as (
         update sk_effect e set keyed = false from closed c
         where c.kind = 'timer' and e.instance_id = c.instance_id and e.kind = 'timer' and e.name = c.name and e.keyed
           and e.status = 'pending' and e.id <> c.id
       )
       select count(*)::int as n from closed`,
      [status, json(error), ts(now), ts(now), id],
    );
    return Number(row?.n ?? 0) > 0;
  }

  async releaseLeases(owner: string): Promise<void> {
    // Other processes are told in the same statement that there is work to claim now, not at their next poll.
    await this.conn.execute(
      `with released as (
        update sk_effect set lease_owner = null, lease_until = null where lease_owner = ? and status = 'pending' returning 1
      )
      select pg_notify(?, ?) from (select 1 from released limit 1) r`,
      [owner, WAKEUP_CHANNEL, encodeWakeup(this.origin, { kind: 'work' })],
      'run',
    );
  }

  async renewLeases(owner: string, ids: readonly string[], leaseUntil: Date): Promise<string[]> {
    // One statement per heartbeat for everything this process works on; a row another process claimed meanwhile
    // (our lease had lapsed) has another owner and is not renewed: we learn that we lost it.
    const rows = await this.prepared({
      name: 'sk_renew_leases_v1',
      sql: `update sk_effect set lease_until = $1::timestamptz
        where id = any($2::text[]) and lease_owner = $3 and status = 'pending' returning id`,
      params: [ts(leaseUntil), ids, owner],
    });
    return rows.map((r) => String(r.id));
  }

  async listTasks(f: TaskFilter): Promise<TaskRecord[]> {
    const where = [`status = 'open'`, 'tenant = ?'];
    const params: unknown[] = [f.tenant];
    const add = (cond: string, ...values: unknown[]) => (where.push(cond), params.push(...values));
    // The same rule as tasks.ts mayActOn: assigned or claimed to the caller, or unassigned with no role or a role it holds.
    if (f.caller)
      add(
        `(assignee = ? or claimed_by = ? or (assignee is null and (jsonb_array_length(roles) = 0
          or exists (select 1 from jsonb_array_elements_text(roles) r where r in (select jsonb_array_elements_text(?::jsonb))))))`,
        f.caller.id,
        f.caller.id,
        JSON.stringify(f.caller.roles),
      );
    if (f.role) add('jsonb_exists(roles, ?)', f.role);
    if (f.assignee) add('(assignee = ? or claimed_by = ?)', f.assignee, f.assignee);
    if (f.machineId) add('machine_id = ?', f.machineId);
    if (f.instanceId) add('instance_id = ?', f.instanceId);
    if (f.overdue === true) add('due_at <= ?::timestamptz', ts(f.now));
    if (f.overdue === false) add('(due_at is null or due_at > ?::timestamptz)', ts(f.now));
    if (f.after) add('(created_at, id) > (?::timestamptz, ?)', ts(f.after.createdAt), f.after.id);
    params.push(f.limit);
    const rows = await this.rows(`select * from sk_task where ${where.join(' and ')} order by created_at, id limit ?`, params);
    return rows.map(toTask);
  }

  async findCorrelated(q: CorrelationQuery): Promise<string[]> {
    // The index has rows of active instances only; the join also keeps out one ended by a commit racing this read.
    const rows = await this.rows(
      `select c.instance_id from sk_correlation c join sk_instance i on i.id = c.instance_id and i.status = 'active'
        where c.tenant = ? and c.key = ? and c.value = ? and (?::text is null or c.machine_id = ?)
        order by c.instance_id limit ?`,
      [q.tenant, q.key, q.value, q.machineId ?? null, q.machineId ?? null, q.limit],
    );
    return rows.map((r) => String(r.instance_id));
  }

  async getTask(id: string): Promise<TaskRecord | undefined> {
    const [row] = await this.rows(`select * from sk_task where id = ?`, [id]);
    return row ? toTask(row) : undefined;
  }

  async claimTask(id: string, from: string | null, to: string | null, now: Date): Promise<boolean> {
    const res = (await this.conn.execute(
      `update sk_task set claimed_by = ?,
          claimed_at = ?::timestamptz where id = ? and status = 'open' and claimed_by is not distinct from ?`,
      [to, to === null ? null : ts(now), id, from],
      'run',
    )) as { affectedRows?: number };
    return (res.affectedRows ?? 0) > 0;
  }

  async stats(tenant: string): Promise<StoreStats> {
    // Counters plus the deltas not folded yet, in one snapshot: exact at any moment (migration 20261209-stats-counters).
    const rows = await this.rows(STATS_SQL, [tenant, tenant]);
    const of = (part: string) => rows.filter((r) => r.part === part);
    return {
      instances: of('instances').map((r) => ({ machineId: String(r.k1), status: r.k2 as InstanceRecord['status'], count: Number(r.n) })),
      steps: of('steps').map((r) => ({ name: String(r.k1), total: Number(r.n), failed: Number(r.failed), retries: Number(r.retries) })),
      outcomes: of('outcomes').map((r) => ({ machineId: String(r.k1), outcome: String(r.k2), count: Number(r.n) })),
      durations: of('durations').map((r) => ({
        machineId: String(r.k1),
        finished: Number(r.n),
        meanMs: Number(r.sum_ms) / Number(r.n),
        maxMs: Number(r.max_ms),
      })),
    };
  }

  /**
   * Moves the stats deltas written since the last fold into the counters; returns how many it folded, or null
   * when another process is folding. Run periodically (see `startStatsFolding`).
   */
  async foldStats(): Promise<number | null> {
    const [row] = await this.rows(`select sk_stats_fold() as folded`, []);
    return row!.folded === null ? null : Number(row!.folded);
  }

  async countByVersion(tenant: string, machineId: string): Promise<VersionCount[]> {
    // One grouped scan of the (tenant, machine_id, status, created_at) index's range for this machine.
    const rows = await this.rows(
      `select machine_version, status, count(*)::int as n from sk_instance where tenant = ? and machine_id = ?
       group by 1, 2 order by 1, 2`,
      [tenant, machineId],
    );
    return rows.map((r) => ({ version: String(r.machine_version), status: r.status as InstanceRecord['status'], count: Number(r.n) }));
  }

  async purgeFinished(req: PurgeRequest): Promise<PurgeCounts> {
    // One call is one transaction: the batch's rows go together or not at all (see migration 20261208-retention).
    const [row] = await this.rows(`select sk_retention_purge(?, ?::text[], ?::text[], ?::timestamptz, ?, ?, ?, ?::timestamptz) as counts`, [
      req.tenant ?? null,
      req.machineIds ? pgArray(req.machineIds) : null,
      req.exceptMachineIds ? pgArray(req.exceptMachineIds) : null,
      ts(req.before),
      req.mode === 'archive',
      req.limit,
      req.dryRun,
      ts(req.now),
    ]);
    const c = row!.counts as Record<keyof PurgeCounts, number>;
    return {
      instances: Number(c.instances),
      events: Number(c.events),
      effects: Number(c.effects),
      outbox: Number(c.outbox),
      tasks: Number(c.tasks),
      checkpoints: Number(c.checkpoints),
    };
  }

  async close(): Promise<void> {
    await this.orm.close();
  }
}

/** A text[] literal: each element quoted, quotes and backslashes escaped. */
function pgArray(values: readonly string[]): string {
  return `{${values.map((v) => `"${v.replace(/["\\]/g, '\\$&')}"`).join(',')}}`;
}

function isUniqueViolation(e: unknown, constraint: string): boolean {
  const err = e as { code?: string; constraint?: string; message?: string; name?: string };
  return (
    (err.code === '23505' || err.name === 'UniqueConstraintViolationException') &&
    (err.constraint === constraint || (err.message ?? '').includes(constraint))
  );
}
