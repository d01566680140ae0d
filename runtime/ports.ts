/**
 * The runtime's ports: what it needs from storage and time. Adapters
 * (`adapters/postgres`, the in-memory store) implement them; one composition
 * root wires them.
 */
import type { CorrelationValues, CorrelationWrite } from './correlation.ts';
import type { CancelKey } from './effect-address.ts';
import type { TaskChanges, TaskFilter, TaskRecord } from './tasks.ts';

/** Lifecycle of an instance as XState reports it, plus `stopped` (cancelled from outside). */
export type InstanceStatus = 'active' | 'done' | 'error' | 'stopped';

/** Persisted row of an instance. */
export interface InstanceRecord {
  id: string;
  tenant: string;
  machineId: string;
  machineVersion: string;
  status: InstanceStatus;
  stateValue: unknown;
  tags: string[];
  snapshot: unknown;
  version: number;
  parentId: string | null;
  parentRef: string | null;
  idempotencyKey: string | null;
  inputHash: string | null;
  output: unknown;
  error: unknown;
  traceContext: Record<string, string> | null;
  /**
   * Paused by an operator (`runtime.pause`): no step, timer, delivery or child start of this instance is
   * dispatched and events from callers are refused until it is resumed.
   */
  paused: boolean;
  /** The instance an operator restarted as this one (`runtime.restartInstance`). */
  restartOf: string | null;
  /** The instance and history entry an operator forked this one from (`runtime.forkInstance`). */
  forkOf: { id: string; seq: number } | null;
  createdAt: Date;
  updatedAt: Date;
}

export type EffectKind = 'step' | 'child' | 'timer' | 'send';
export type EffectStatus = 'pending' | 'done' | 'failed' | 'cancelled';

/** Persisted row of an effect (see `sk_effect`). */
export interface EffectRecord {
  id: string;
  instanceId: string;
  kind: EffectKind;
  name: string;
  target: string | null;
  status: EffectStatus;
  input: unknown;
  event: unknown;
  attempts: number;
  dueAt: Date | null;
  leaseOwner: string | null;
  leaseUntil: Date | null;
  result: unknown;
  error: unknown;
  lastError: unknown;
  createdAt: Date;
  updatedAt: Date;
  closedAt: Date | null;
  /**
   * A timer that holds its send id in XState's scheduler: the one `cancel(id)` cancels. Scheduling the id again
   * moves it to the new timer, and any timer of that id firing frees it (the older timers still fire). False
   * for every other kind.
   */
  keyed: boolean;
  /** Set by `claimDue` only: who held the lease before this claim (another owner whose lease expired: a takeover). */
  previousOwner?: string | null;
}

/** Where an event came from, recorded in history. */
export type EventSource = 'start' | 'api' | 'timer' | 'step' | 'child' | 'operator' | 'system' | 'webhook';

/** One history row. */
export interface EventRecord {
  instanceId: string;
  seq: number;
  type: string;
  payload: unknown;
  source: EventSource;
  actor: string | null;
  stateValue: unknown;
  handled: boolean;
  idempotencyKey: string | null;
  createdAt: Date;
}

/** The new effect rows of a commit (ids are their idempotency keys). */
export type NewEffect = Pick<
  EffectRecord,
  'id' | 'kind' | 'name' | 'target' | 'input' | 'event' | 'attempts' | 'dueAt' | 'leaseOwner' | 'leaseUntil' | 'keyed'
>;

/** Closing the effect whose result this event carries, in the same transaction. */
export interface EffectClose {
  id: string;
  /**
   * The closed effect's kind, when the caller knows it. Only a timer's close frees a send id, so a store may skip
   * that work for any other kind; left out, the close is treated as possibly a timer's.
   */
  kind?: EffectKind;
  status: 'done' | 'failed';
  result?: unknown;
  error?: unknown;
}

/** The instance fields a transition writes (the change feed's message is `InstanceChange` in `types.ts`). */
export type InstanceUpdate = Pick<InstanceRecord, 'snapshot' | 'status' | 'stateValue' | 'tags' | 'output' | 'error'> & {
  /** Set by a pause (true), a resume or a stop (false); left as it is when absent. */
  paused?: boolean;
};

/** Everything one event writes: applied atomically or not at all. */
export interface CommitRequest {
  instanceId: string;
  /** Version read before the transition; the write fails on a mismatch. */
  expectedVersion: number;
  change: InstanceUpdate;
  event: Omit<EventRecord, 'instanceId' | 'seq' | 'stateValue' | 'createdAt'>;
  /**
   * When set, the commit only happens while this effect is still open. Closing a timer (its delivery) frees
   * its send id first: no open timer of that id holds it any more (as XState's scheduler on a fire).
   */
  closeEffect?: EffectClose;
  newEffects: NewEffect[];
  /** Open effects to cancel (see `effect-address.ts`); never the effect this commit closes. */
  cancel: CancelKey[];
  /** Stored as the `error` of the rows `cancel` closes (a migration says why each effect did not survive). */
  cancelReason?: unknown;
  /** Send ids scheduled again by this commit: open timers holding them no longer do (see `EffectPlan.superseded`). */
  superseded?: string[];
  outbox: { type: string; payload: unknown }[];
  /** Moves the instance to this registered version of its machine (an operator retry after a fix). */
  machineVersion?: string;
  /** Task rows opened and closed by this transition (see `tasks.ts`), written in the same transaction. */
  tasks?: TaskChanges;
  /**
   * A resume: the leases of the instance's open timers are released in the same transaction, so the poller
   * claims and arms them again (a timer that came due while paused was held, not delivered).
   */
  releaseTimers?: boolean;
  /**
   * The instance's correlation index rows (see `correlation.ts`), written in the same transaction:
   * absent leaves them, `null` removes them, values replace them.
   */
  correlation?: CorrelationWrite;
  now: Date;
}

/** The first commit of an instance. */
export interface CreateRequest {
  record: InstanceRecord;
  event: Omit<EventRecord, 'instanceId' | 'seq' | 'stateValue' | 'createdAt'>;
  newEffects: NewEffect[];
  outbox: { type: string; payload: unknown }[];
  /** The parent's child effect that this creation fulfils: its due time is cleared in the same transaction. */
  startedBy?: string;
  /** Tasks of the initial state, opened in the same transaction. */
  tasks?: TaskChanges;
  /**
   * A fork's history up to the entry it was forked from (seq 1..n, copied from the original): written before
   * `event`, which then gets seq n + 1, and the instance starts at version n + 1.
   */
  priorEvents?: PriorEvent[];
  /** Correlation values of the initial state, indexed in the same transaction. */
  correlation?: CorrelationValues | null;
}

/** What {@link InstanceStore.findCorrelated} looks for. */
export interface CorrelationQuery {
  tenant: string;
  key: string;
  value: string;
  /** Only instances of this machine (any version). */
  machineId?: string;
  limit: number;
}

/** A history row copied into a fork (see {@link CreateRequest.priorEvents}). */
export type PriorEvent = Omit<EventRecord, 'instanceId'>;

/** `cancelledTimers`: ids of the timer rows the commit cancelled (to disarm exactly those). */
export type CommitResult =
  | { ok: true; version: number; cancelledTimers?: string[] }
  | { ok: false; reason: 'version_conflict' | 'effect_closed' | 'duplicate_event' };

export type CreateResult = { ok: true } | { ok: false; reason: 'exists' };

/** Filters of {@link InstanceStore.list}. */
export interface ListFilter {
  tenant: string;
  machineId?: string;
  machineVersion?: string;
  status?: InstanceStatus[];
  /** Matches when the state value contains this top-level state name or the instance carries this tag. */
  state?: string;
  parentId?: string;
  createdAfter?: Date;
  createdBefore?: Date;
  updatedAfter?: Date;
  updatedBefore?: Date;
  /** Opaque cursor from a previous page. */
  after?: { createdAt: Date; id: string };
  limit: number;
}

/** Storage of instances, history and effects. */
export interface InstanceStore {
  create(req: CreateRequest): Promise<CreateResult>;
  commit(req: CommitRequest): Promise<CommitResult>;
  get(id: string): Promise<InstanceRecord | undefined>;
  getByIdempotencyKey(tenant: string, key: string): Promise<InstanceRecord | undefined>;
  list(filter: ListFilter): Promise<InstanceRecord[]>;
  history(instanceId: string, afterSeq: number, limit: number): Promise<EventRecord[]>;
  eventByIdempotencyKey(instanceId: string, key: string): Promise<EventRecord | undefined>;
  effects(instanceId: string): Promise<EffectRecord[]>;
  getEffect(id: string): Promise<EffectRecord | undefined>;
  /**
   * Claims open effects that are due (`dueAt <= dueBefore`) and not leased by a
   * live owner, leasing them to `owner` until `leaseUntil`. A claim is not an
   * attempt: a step's `attempts` counts the calls started ({@link InstanceStore.recordAttempt}).
   * Effects of a paused instance or of one in `error` (quarantined) are not claimed: they wait for the
   * resume or the operator retry.
   */
  claimDue(owner: string, now: Date, dueBefore: Date, leaseUntil: Date, limit: number): Promise<EffectRecord[]>;
  /** Open child effects whose child instance has finished (done, error or stopped). */
  finishedChildren(limit: number): Promise<{ effect: EffectRecord; child: InstanceRecord }[]>;
  /**
   * Records that call `attempt` of a step starts, before it is made (so a call cut short by a crash still
   * counts, and a claim that never called does not); false when the step is no longer open.
   */
  recordAttempt(effectId: string, attempt: number, now: Date): Promise<boolean>;
  /**
   * Takes back the first attempt that the commit opening a step recorded, when that call never started
   * (the runtime stopped before it could make it): the step's `attempts` goes from `attempt` to `attempt - 1`.
   */
  releaseAttempt(effectId: string, attempt: number, now: Date): Promise<void>;
  /** Records a failed attempt (`attempts`: calls made so far) and when the next one is due. */
  scheduleRetry(effectId: string, attempts: number, dueAt: Date, leaseUntil: Date | null, lastError: unknown, now: Date): Promise<void>;
  /**
   * Closes an open effect without an instance commit (e.g. its target instance is gone); false if it was not open.
   * A timer closed so has fired: its send id is freed as by a commit's `closeEffect`.
   */
  closeEffect(id: string, status: 'done' | 'failed' | 'cancelled', error: unknown, now: Date): Promise<boolean>;
  /** Releases every lease held by `owner` (graceful stop). */
  releaseLeases(owner: string): Promise<void>;
  /**
   * The heartbeat: extends to `leaseUntil` the leases `owner` still holds on the open effects `ids`; returns
   * the ids renewed (the others were closed, or another process claimed them after the lease lapsed).
   */
  renewLeases(owner: string, ids: readonly string[], leaseUntil: Date, now: Date): Promise<string[]>;
  /** Open tasks matching the filter, oldest first. */
  listTasks(filter: TaskFilter): Promise<TaskRecord[]>;
  getTask(id: string): Promise<TaskRecord | undefined>;
  /**
   * Sets who works on an open task, only while it is claimed by `from`
   * (null: unclaimed); false when the task is closed or claimed by someone else.
   */
  claimTask(id: string, from: string | null, to: string | null, now: Date): Promise<boolean>;
  /** Stored ids of the tenant's active instances indexed under `key` = `value`, in id order. */
  findCorrelated(query: CorrelationQuery): Promise<string[]>;
  /** Aggregates for one tenant (see {@link StoreStats}). */
  stats(tenant: string): Promise<StoreStats>;
  /** Instances of one machine of a tenant counted by version and status (one grouped query). */
  countByVersion(tenant: string, machineId: string): Promise<VersionCount[]>;
  /** Durable schedules (see `schedules.ts`); absent on a store without them. */
  readonly schedules?: ScheduleStore;
  /**
   * Deletes or archives one batch of finished instances with their history, effects, outbox rows, tasks and
   * checkpoints (see `retention.ts` for the rule), in one transaction; a dry run counts all of them and changes nothing.
   * Absent on a store without retention.
   */
  purgeFinished?(req: PurgeRequest): Promise<PurgeCounts>;
  close(): Promise<void>;
}

/** How many instances of a machine version are in a status. */
export interface VersionCount {
  version: string;
  status: InstanceStatus;
  count: number;
}

/**
 * One batch of retention. An instance qualifies when its status is done, error or stopped, it is not paused,
 * it was last updated before `before`, its parent (if any) is not active and none of its children is active.
 */
export interface PurgeRequest {
  /** Only this tenant's instances (all tenants when absent). */
  tenant?: string;
  /** Only these machines ... */
  machineIds?: readonly string[];
  /** ... or every machine but these. */
  exceptMachineIds?: readonly string[];
  before: Date;
  /** `archive` copies every row to the archive tables before deleting it. */
  mode: 'delete' | 'archive';
  /** Instances per batch (ignored by a dry run, which counts them all). */
  limit: number;
  dryRun: boolean;
  now: Date;
}

/** Rows a purge removed (or, dry, would remove), by table. */
export interface PurgeCounts {
  instances: number;
  events: number;
  effects: number;
  outbox: number;
  tasks: number;
  checkpoints: number;
}

/** The stored row of a schedule: its definition and where its ticks are. */
export interface ScheduleRecord {
  tenant: string;
  id: string;
  machine: string;
  input: unknown;
  cron: string;
  timezone: string;
  overlap: 'skip' | 'allow' | 'cancel-previous';
  catchUp: 'none' | 'all';
  paused: boolean;
  /** `code`: declared by `schedules.define` (and configuration), re-declared at every start; `api`: made over HTTP. */
  origin: 'code' | 'api';
  /** The next tick to run (null when the expression fires no more). */
  nextTick: Date | null;
  lastTick: Date | null;
  lastInstanceId: string | null;
  lastOutcome: 'started' | 'skipped' | 'failed' | null;
  lastError: string | null;
  leaseOwner: string | null;
  leaseUntil: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** What running ticks (or a trigger) changes on a schedule row. */
export interface ScheduleTickUpdate {
  lastTick: Date;
  lastInstanceId: string | null;
  lastOutcome: 'started' | 'skipped' | 'failed';
  lastError: string | null;
  now: Date;
}

/** Storage of schedules; ticks are claimed with leases (`FOR UPDATE SKIP LOCKED` on Postgres). */
export interface ScheduleStore {
  /** Inserts a new schedule; false when the tenant has one with that id. */
  insertSchedule(r: ScheduleRecord): Promise<boolean>;
  /**
   * Inserts or updates a declared schedule: an unchanged definition keeps its row as it is; a changed one takes the
   * new definition, and its next tick only when the expression or time zone changed. The paused flag of an existing
   * row is kept (an operator's pause outlives a redeploy). Returns the stored row.
   */
  defineSchedule(r: ScheduleRecord): Promise<ScheduleRecord>;
  getSchedule(tenant: string, id: string): Promise<ScheduleRecord | undefined>;
  listSchedules(tenant: string): Promise<ScheduleRecord[]>;
  deleteSchedule(tenant: string, id: string): Promise<boolean>;
  /** Sets the paused flag and the next tick (a resume starts from now, not from what was missed); false if absent. */
  setSchedulePaused(tenant: string, id: string, paused: boolean, nextTick: Date | null, now: Date): Promise<boolean>;
  /** Leases up to `limit` unpaused schedules whose next tick is due and whose lease (if any) has lapsed. */
  claimDueSchedules(owner: string, now: Date, leaseUntil: Date, limit: number): Promise<ScheduleRecord[]>;
  /**
   * Records the ticks run and moves the next tick, releasing the lease, only while the row still has the next tick
   * `expectedNextTick` and `owner`'s lease (a compare-and-set: a redefinition or pause meanwhile wins); false otherwise.
   */
  finishTicks(
    tenant: string,
    id: string,
    owner: string,
    expectedNextTick: Date,
    nextTick: Date | null,
    u: ScheduleTickUpdate,
  ): Promise<boolean>;
  /** Records a tick run outside the schedule (a trigger), leaving the next tick as it is. */
  recordTick(tenant: string, id: string, u: ScheduleTickUpdate): Promise<void>;
  /** The earliest time a schedule may come due: its next tick, or when the lease on it lapses; undefined when none. */
  nextScheduleWake(): Promise<Date | undefined>;
  /** Releases every schedule lease held by `owner` (graceful stop, or a restart under the same owner). */
  releaseScheduleLeases(owner: string): Promise<void>;
}

/**
 * Counts and durations the stats endpoint reports. Keys are sorted in code-point order; a key whose count is 0 is
 * left out.
 */
export interface StoreStats {
  instances: { machineId: string; status: InstanceStatus; count: number }[];
  /** Step effects by step name: how many ran, failed for good, and extra attempts (retries) taken. */
  steps: { name: string; total: number; failed: number; retries: number }[];
  /** Finished instances by `output.outcome` (sagas: completed, rolled_back, cancelled). */
  outcomes: { machineId: string; outcome: string; count: number }[];
  /**
   * Run time (created to last update) of the finished instances, by machine: how many, their mean, and `maxMs`, the
   * longest run seen, including instances since purged (a maximum cannot be subtracted when a row goes).
   */
  durations: { machineId: string; finished: number; meanMs: number; maxMs: number }[];
}

/** Time, swappable for a simulated clock. */
export interface Clock {
  now(): Date;
  /** Calls `fn` once `ms` have passed on this clock; returns a cancel function. */
  schedule(ms: number, fn: () => void): () => void;
}

/**
 * What the database announces about work done by other processes (see
 * `adapters/postgres/pg-notifier.ts`): a committed instance change, new work to
 * claim, a revoked API key, or `resync` after the announcements were out of
 * reach for a while (anything may have been missed: act as after a poll).
 */
export type Wakeup =
  | { kind: 'instance'; instanceId: string; tenant: string; version: number; status: InstanceStatus }
  | { kind: 'work' }
  | { kind: 'key_revoked'; keyId: string }
  | { kind: 'deliveries' }
  | { kind: 'resync' };

/**
 * Announcements from other processes. The store sends them with the writes they
 * describe; they are hints: a lost one is covered by polling.
 */
export interface Wakeups {
  /** Calls `fn` for each announcement; returns the unsubscribe function. */
  subscribe(fn: (wakeup: Wakeup) => void): () => void;
}
