/**
 * Bulk actions: one operator command applied to every instance a filter matches, carried out by a durable
 * job (see `bulk-jobs.ts`). The store port and the records it keeps.
 */
import type { InstanceStatus, ListFilter } from './ports.ts';

/** What a bulk job does to each instance it matches (the operator commands of the runtime). */
export type BulkAction = 'cancel' | 'retry' | 'pause' | 'resume' | 'restart' | 'migrate';

/** Arguments of an action: the version a `migrate` moves instances to. */
export interface BulkParams {
  to?: string;
}

/**
 * Which instances a bulk action takes: the filters of the instance list, plus equality of the whole state
 * value and of context fields. All given conditions must hold.
 */
export interface BulkFilter extends Partial<Omit<ListFilter, 'tenant' | 'after' | 'limit'>> {
  /** The state value, exactly (`"review"`, `{ "running": "onuActivation" }`); object key order does not matter. */
  stateValue?: unknown;
  /** Context fields by dot path (`"customer.tier"`) and the JSON value each must equal. */
  context?: Record<string, unknown>;
}

/** Status of a bulk job. */
export type BulkJobStatus = 'running' | 'completed' | 'cancelled';

/** One instance the action failed on, with the stable code of the error. */
export interface BulkFailure {
  instanceId: string;
  code: string;
  message: string;
}

/** A bulk job's row. */
export interface BulkJobRecord {
  id: string;
  tenant: string;
  action: BulkAction;
  filter: BulkFilter;
  params: BulkParams;
  reason: string | null;
  /** Who started it (the caller's id). */
  actor: string | null;
  status: BulkJobStatus;
  /** Instances the filter matched when the job was created. */
  total: number;
  done: number;
  failed: number;
  /** Instances the action did not apply to (a cancel of a finished instance, a retry with nothing to retry). */
  skipped: number;
  /** The last instance id handled: the job goes on after it (instances are taken in id order). */
  cursor: string | null;
  /** The first failures (at most {@link MAX_REPORTED_FAILURES}); `failed` counts all of them. */
  failures: BulkFailure[];
  leaseOwner: string | null;
  leaseUntil: Date | null;
  createdAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
  /** Who cancelled it. */
  cancelledBy: string | null;
}

/** Failures kept in a job's report; later ones are counted only. */
export const MAX_REPORTED_FAILURES = 1000;

/** What one batch changes of a job. */
export interface BulkProgress {
  cursor: string | null;
  done: number;
  failed: number;
  skipped: number;
  failures: BulkFailure[];
  leaseUntil: Date;
  /** The job has nothing more to do. */
  finished: boolean;
  now: Date;
}

/**
 * Storage of bulk jobs and the selection of the instances they act on. Implemented by the memory store (simulation
 * mode) and the Postgres store; a job is always written by one short statement.
 */
export interface BulkStore {
  /** How many of the tenant's instances match, and the first `sample` ids (id order). */
  countMatching(tenant: string, filter: BulkFilter, sample: number): Promise<{ count: number; sample: string[] }>;
  /** The next `limit` matching stored ids after `afterId`, in id order (keyset pagination). */
  matchingIds(tenant: string, filter: BulkFilter, afterId: string | null, limit: number): Promise<string[]>;
  createJob(job: BulkJobRecord): Promise<void>;
  getJob(id: string): Promise<BulkJobRecord | undefined>;
  /** The tenant's jobs, newest first, after `after` (the last job of the previous page). */
  listJobs(tenant: string, limit: number, after?: { createdAt: Date; id: string }): Promise<BulkJobRecord[]>;
  /** Leases a running job no live process holds to `owner`; undefined when there is none. */
  claimJob(owner: string, now: Date, leaseUntil: Date): Promise<BulkJobRecord | undefined>;
  /**
   * Records a batch while the job is leased to `owner` (also when it was cancelled during the batch); true when
   * the job goes on, false when it was cancelled, has finished or was taken over.
   */
  saveProgress(id: string, owner: string, progress: BulkProgress): Promise<boolean>;
  /** Gives the job's lease up (a graceful stop): another process, or the next start, goes on at once. */
  releaseJob(id: string, owner: string): Promise<void>;
  /** Cancels a running job of the tenant; returns the job as it is then (undefined: no such job). */
  cancelJob(id: string, tenant: string, actor: string | null, now: Date): Promise<BulkJobRecord | undefined>;
}

/** A store that also keeps bulk jobs (the memory and Postgres stores). */
export interface WithBulkStore {
  bulkStore(): BulkStore;
}

/**
 * The bulk store a store keeps, if it keeps one: undefined for a store without it, or for a wrapper that
 * forwards the call but not a usable store (one turning every method async, say). Bulk actions then answer
 * `bulk_unavailable`; nothing else changes.
 */
export function bulkStoreOf(store: object): BulkStore | undefined {
  const make = (store as Partial<WithBulkStore>).bulkStore;
  let bulk: Partial<BulkStore> | undefined;
  try {
    bulk = typeof make === 'function' ? (make.call(store) as Partial<BulkStore> | undefined) : undefined;
  } catch {
    // A wrapper over a store that keeps none (SealedStore says so by throwing).
    return undefined;
  }
  return typeof bulk?.claimJob === 'function' && typeof bulk.matchingIds === 'function' ? (bulk as BulkStore) : undefined;
}

/** Statuses an instance can have, for filter validation. */
export const INSTANCE_STATUSES: readonly InstanceStatus[] = ['active', 'done', 'error', 'stopped'];
