import { randomUUID } from 'node:crypto';
import { BULK_ACTION_NAMES, BULK_ACTIONS, type BulkTarget } from './bulk-actions.ts';
import { checkBulkFilter } from './bulk-filter.ts';
import type { BulkAction, BulkFailure, BulkFilter, BulkJobRecord, BulkParams, BulkStore } from './bulk-types.ts';
import { RuntimeError } from './errors.ts';
import { publicId } from './instance-ids.ts';
import type { Clock } from './ports.ts';
import type { Caller } from './types.ts';
import { decodeCursor, encodeCursor } from './views.ts';

/** Options of {@link BulkJobs}. */
export interface BulkJobsOptions {
  /** Where jobs are kept; without one, bulk actions answer `bulk_unavailable`. */
  readonly store: BulkStore | undefined;
  readonly target: BulkTarget;
  readonly clock: Clock;
  readonly owner: string;
  readonly onError: (e: unknown) => void;
  readonly track: <T>(p: Promise<T>) => Promise<T>;
  /** How often jobs left by a stopped or crashed process are looked for (0: only at start-up). */
  readonly pollIntervalMs: number;
  /** Instances per batch: one progress write per batch (default 200). */
  readonly batchSize?: number;
  /** Instances of a batch acted on at once, each in its own commit (default 8). */
  readonly concurrency?: number;
  /** The stored id of the tenant's instance (a filter's parent is given by its public id). */
  readonly storedIdOf: (id: string, tenant: string) => Promise<string>;
}

/** A bulk job as callers see it. */
export interface BulkJobView {
  id: string;
  action: BulkAction;
  filter: BulkFilter;
  params: BulkParams;
  reason: string | null;
  actor: string | null;
  status: BulkJobRecord['status'];
  total: number;
  done: number;
  failed: number;
  skipped: number;
  failures: BulkFailure[];
  cancelledBy: string | null;
  createdAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
}

/** A dry run: what a bulk action would take. */
export interface BulkPreview {
  action: BulkAction;
  count: number;
  /** The first matching instance ids (id order). */
  sample: string[];
}

/** Options of {@link BulkJobs.start} and {@link BulkJobs.preview}. */
export interface BulkRequest {
  readonly action: BulkAction;
  readonly filter: BulkFilter;
  /** `{ to }` for `migrate`: the version to move instances to. */
  readonly params?: BulkParams;
  readonly tenant: string;
  readonly caller?: Caller;
  readonly reason?: string;
}

/** A job's lease: renewed by every batch, so a crashed process's job is taken over this long after its last batch. */
const LEASE_MS = 60_000;
const SAMPLE = 20;

/**
 * Bulk actions: a dry run counts what a filter matches; a real run is a durable job that takes the matching
 * instances in id order, a batch at a time (keyset pagination), acts on each instance through the ordinary
 * operator command (its own short commit; no transaction spans a batch) and records the batch's progress and
 * failures with the cursor in one write. A job is leased to one process at a time: a graceful stop finishes the
 * batch in hand and gives the job up, a crash leaves it to be taken over when its lease lapses, and either way
 * the job goes on after its cursor. Cancelling a job stops it before its next batch.
 *
 * @remarks After a crash the batch in flight is looked at again: an action already applied there is counted
 * as skipped (every action is idempotent), so `done + failed + skipped` still counts each instance once.
 */
export class BulkJobs {
  private stopped = false;
  private running: Promise<void> | undefined;
  private again = false;
  private stopPoll?: () => void;

  constructor(private readonly o: BulkJobsOptions) {}

  /** Counts the instances a bulk action would take, with a sample of their ids; changes nothing. */
  async preview(req: BulkRequest): Promise<BulkPreview> {
    const { store, filter, action } = await this.checked(req);
    const { count, sample } = await store.countMatching(req.tenant, filter, SAMPLE);
    return { action, count, sample: sample.map((id) => publicId(req.tenant, id)) };
  }

  /** Creates a job and starts it in this process. */
  async start(req: BulkRequest): Promise<BulkJobView> {
    const { store, filter, action } = await this.checked(req);
    const now = this.o.clock.now();
    const { count } = await store.countMatching(req.tenant, filter, 0);
    const job: BulkJobRecord = {
      id: randomUUID(),
      tenant: req.tenant,
      action,
      filter,
      params: req.action === 'migrate' ? { to: req.params?.to } : {},
      reason: req.reason ?? null,
      actor: req.caller?.id ?? null,
      status: 'running',
      total: count,
      done: 0,
      failed: 0,
      skipped: 0,
      cursor: null,
      failures: [],
      leaseOwner: null,
      leaseUntil: null,
      createdAt: now,
      updatedAt: now,
      finishedAt: null,
      cancelledBy: null,
    };
    await store.createJob(job);
    this.kick();
    return viewOf(job);
  }

  /** A job of the tenant (`bulk_job_not_found` otherwise). */
  async get(jobId: string, tenant: string): Promise<BulkJobView> {
    const job = await this.storeOrFail().getJob(jobId);
    if (job?.tenant !== tenant) throw notFound(jobId);
    return viewOf(job);
  }

  /** The tenant's jobs, newest first. */
  async list(
    tenant: string,
    options: { limit?: number; cursor?: string } = {},
  ): Promise<{ items: BulkJobView[]; nextCursor: string | null }> {
    const limit = options.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > 500)
      throw RuntimeError.invalidArgument('bulk', 'limit must be an integer from 1 to 500');
    const after = options.cursor ? decodeCursor(options.cursor, 'bulk') : undefined;
    const rows = await this.storeOrFail().listJobs(tenant, limit + 1, after);
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return { items: page.map(viewOf), nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
  }

  /** Cancels a running job: no batch starts after this; what was done stays done. Idempotent. */
  async cancel(jobId: string, tenant: string, caller?: Caller): Promise<BulkJobView> {
    const job = await this.storeOrFail().cancelJob(jobId, tenant, caller?.id ?? null, this.o.clock.now());
    if (!job) throw notFound(jobId);
    return viewOf(job);
  }

  /** Takes up running jobs no process holds (start-up), then looks again every poll interval. */
  resume(): void {
    this.kick();
  }

  /** Stops taking jobs; the batch in hand is finished and recorded, its job given up for the next process. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopPoll?.();
    await this.running;
  }

  private kick(): void {
    if (this.stopped || !this.o.store) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.stopPoll?.();
    this.stopPoll = undefined;
    this.running = this.o.track(this.work().catch(this.o.onError)).finally(() => {
      this.running = undefined;
      if (this.stopped) return;
      if (this.again) {
        this.again = false;
        this.kick();
      } else if (this.o.pollIntervalMs > 0) {
        this.stopPoll = this.o.clock.schedule(this.o.pollIntervalMs, () => this.kick());
      }
    });
  }

  /** Runs claimable jobs one after the other until there is none. */
  private async work(): Promise<void> {
    const store = this.o.store!;
    while (!this.stopped) {
      const job = await store.claimJob(this.o.owner, this.o.clock.now(), this.leaseUntil());
      if (!job) return;
      await this.run(store, job);
    }
  }

  private async run(store: BulkStore, job: BulkJobRecord): Promise<void> {
    const batchSize = this.o.batchSize ?? 200;
    const options = {
      tenant: job.tenant,
      caller: job.actor ? { id: job.actor } : undefined,
      reason: job.reason ?? undefined,
      to: job.params.to,
    };
    let cursor = job.cursor;
    for (;;) {
      if (this.stopped) return void (await store.releaseJob(job.id, this.o.owner));
      const ids = await store.matchingIds(job.tenant, job.filter, cursor, batchSize);
      const tally = { done: 0, failed: 0, skipped: 0, failures: [] as BulkFailure[] };
      await eachLimited(ids, this.o.concurrency ?? 8, async (id) => {
        try {
          tally[await BULK_ACTIONS[job.action](this.o.target, id, options)]++;
        } catch (e) {
          tally.failed++;
          const code = e instanceof RuntimeError ? e.code : 'internal_error';
          tally.failures.push({ instanceId: publicId(job.tenant, id), code, message: e instanceof Error ? e.message : String(e) });
        }
      });
      cursor = ids.at(-1) ?? cursor;
      const finished = ids.length < batchSize;
      const now = this.o.clock.now();
      const kept = await store.saveProgress(job.id, this.o.owner, { ...tally, cursor, finished, now, leaseUntil: this.leaseUntil() });
      // Cancelled (or, after a long stall, taken over by another process): stop here.
      if (!kept || finished) return;
    }
  }

  private leaseUntil(): Date {
    return new Date(this.o.clock.now().getTime() + LEASE_MS);
  }

  private storeOrFail(): BulkStore {
    if (!this.o.store)
      throw new RuntimeError('bulk_unavailable', 'This runtime has no store for bulk jobs (pass bulkStore to createRuntime).');
    return this.o.store;
  }

  private async checked(req: BulkRequest): Promise<{ store: BulkStore; filter: BulkFilter; action: BulkAction }> {
    if (!BULK_ACTION_NAMES.includes(req.action)) {
      throw RuntimeError.invalidArgument('bulk', `action must be one of ${BULK_ACTION_NAMES.join(', ')}`, { action: req.action });
    }
    const to = req.params?.to;
    if (req.action === 'migrate' && (typeof to !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(to))) {
      throw RuntimeError.invalidArgument('bulk', 'migrate needs params.to: the registered version to move instances to');
    }
    const filter = checkBulkFilter(req.filter);
    if (filter.parentId) filter.parentId = await this.o.storedIdOf(filter.parentId, req.tenant);
    return { store: this.storeOrFail(), filter, action: req.action };
  }
}

function notFound(jobId: string): RuntimeError {
  return new RuntimeError('bulk_job_not_found', `Bulk job "${jobId}" does not exist (or belongs to another tenant).`, { jobId });
}

function viewOf(j: BulkJobRecord): BulkJobView {
  const { leaseOwner: _owner, leaseUntil: _until, cursor: _cursor, tenant: _tenant, ...view } = j;
  // The filter keeps the parent's stored id; callers name instances by their public id.
  const { parentId } = view.filter;
  return parentId === undefined ? view : { ...view, filter: { ...view.filter, parentId: publicId(j.tenant, parentId) } };
}

/** Runs `fn` over `items`, at most `limit` at a time. */
async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
