import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { AnyStateMachine, EventObject } from 'xstate';
import { systemClock } from './clock.ts';
import { correlate, type CorrelateOptions, type CorrelateResult } from './correlate.ts';
import { Engine } from './engine.ts';
import { DEFAULT_LEASE_MS } from './lease-keeper.ts';
import { RuntimeError } from './errors.ts';
import { Operations, type OperationOptions } from './operations.ts';
import type {
  Clock,
  EffectRecord,
  EventRecord,
  InstanceRecord,
  InstanceStore,
  StoreStats,
  VersionCount,
  Wakeup,
  Wakeups,
} from './ports.ts';
import { InstanceQueries, type ListOptions, type WaitUntilOptions } from './queries.ts';
import { Registry, type RegisterOptions, type RegisteredMachine } from './registry.ts';
import { issueList } from './standard-schema.ts';
import { safeObserver, type RuntimeObserver } from './observer.ts';
import type { StepRegistry } from './step-types.ts';
import { TaskOperations } from './task-operations.ts';
import { DEFAULT_TRANSITION_RATE_LIMIT, isRateLimit, type TransitionRateLimit } from './transition-budget.ts';
import type { Caller, InstanceChange, InstanceView, RemoteChange, SendOptions, SendResult, StartOptions, StartResult } from './types.ts';
import { checkEvent, checkId, checkStartOptions, checkTenant } from './validate.ts';
import { DEFAULT_TENANT, publicId, storedId } from './instance-ids.ts';
import { restartInstance } from './restart.ts';
import { forkInstance } from './fork.ts';
import { migrateInstance, type MigrateOptions } from './migrate-instance.ts';
import type { MigrationReport } from './migration-plan.ts';
import { MigrationRegistry, type MigrationDefinition } from './migrations.ts';
import { MemoryStore } from './memory-store.ts';
import { Outbox, type DeliveryListOptions, type DeliveryView, type OutboxOptions } from './outbox/outbox.ts';
import { BulkJobs } from './bulk-jobs.ts';
import { bulkStoreOf, type BulkStore } from './bulk-types.ts';
import { hashInput, recordView, view, type InstanceDetails } from './views.ts';
import { Schedules } from './schedules.ts';
import { Retention, type RetentionOptions } from './retention.ts';
import type { ScheduleDefinition } from './schedule-spec.ts';

export type { ListOptions } from './queries.ts';

/** A generated instance id (a UUID), or the id of one of its child instances. */
const GENERATED = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(:|$)/;

/** Default shortest timer delay: a loop on such a timer writes at most ten history rows a second. */
export const DEFAULT_MIN_DELAY_MS = 100;

/** Options of {@link createRuntime}. */
export interface RuntimeOptions {
  readonly store: InstanceStore;
  readonly clock?: Clock;
  /** Identifies this process in leases; keep it stable across restarts of the same process (default: host name + pid). */
  readonly workerId?: string;
  /** How often due timers and orphaned effects are claimed (default 1000 ms; 0 disables). */
  readonly pollIntervalMs?: number;
  /**
   * How long a lease on an effect (a running step, an armed timer, a delivery) lasts from its last renewal
   * (default 4 s): a process that dies holding effects has them taken over by another process's poll round
   * at most this long after its last heartbeat. Steps of any length keep their lease while their process lives.
   */
  readonly leaseMs?: number;
  /**
   * How often this process renews the leases of the effects it works on (default `leaseMs / 2`; 0 never
   * renews, for one process on a simulated clock). Must be below `leaseMs`.
   */
  readonly heartbeatMs?: number;
  /** Timers due within this window are armed in memory (default 60 s). */
  readonly timerHorizonMs?: number;
  /** Idle instances kept in memory (default 10,000). */
  readonly maxCachedInstances?: number;
  readonly steps?: StepRegistry;
  /**
   * Shortest delay a timer may have (default 100 ms). A fixed delay below it
   * refuses the machine at registration; one computed below it at run time
   * ends the instance in error (`delay_too_short`).
   */
  readonly minDelayMs?: number;
  /**
   * Transitions one instance may commit per window (default 1,000 per 10 s);
   * the next one ends it in error (`transition_rate_exceeded`) with its open effects cancelled.
   */
  readonly transitionRateLimit?: TransitionRateLimit;
  /** Receives errors of background work (default: console.error). */
  readonly onError?: (error: unknown) => void;
  /** Told of step attempts, timer firings and claims as they happen (metrics, logs); see `observer.ts`. */
  readonly observer?: RuntimeObserver;
  /**
   * Announcements of other processes sharing the store (Postgres LISTEN/NOTIFY):
   * their commits reach remote subscribers, waits and the SSE stream at once and
   * evict stale cached copies; released leases start a poll round. Without it,
   * polling alone finds their work.
   */
  readonly wakeups?: Wakeups;
  /**
   * Outbox delivery to webhooks and in-process subscribers (`runtime.outbox`): its store (default: the memory
   * store's own when `store` is a MemoryStore; else none and nothing is delivered), retry policy and poll.
   */
  readonly outbox?: OutboxOptions;
  /** Schedules declared in code, defined (idempotently) by {@link createRuntime} once the machines are registered. */
  readonly schedules?: readonly ScheduleDefinition[];
  /**
   * Where bulk jobs are kept (see `bulk-jobs.ts`); by default the store's own (`bulkStore()` of the memory and
   * Postgres stores, and of a store wrapping one).
   */
  readonly bulkStore?: BulkStore;
  /** Instances per bulk batch (default 200). */
  readonly bulkBatchSize?: number;
  /** Retention of finished instances: the default policy, how often it runs (default hourly), batch size (see `retention.ts`). */
  readonly retention?: RetentionOptions;
}

/**
 * The durable runtime: hosts persisted XState instances. This class is the
 * public facade; the engine loop is `engine.ts`, reads are `queries.ts`,
 * operator commands `operations.ts`.
 *
 * @example
 * ```ts
 * const runtime = await createRuntime({ store });
 * runtime.register(orderMachine, { version: '1', steps: { chargeCard } });
 * const { id } = await runtime.start({ machine: 'order', input: { amount: 10 } });
 * await runtime.send(id, { type: 'order.confirm' });
 * ```
 */
export class Runtime {
  readonly registry: Registry;
  /** Snapshot migrations between versions (see {@link registerMigration}). */
  readonly migrations = new MigrationRegistry();
  readonly clock: Clock;
  readonly workerId: string;
  private readonly store: InstanceStore;
  private readonly engine: Engine;
  private readonly queries: InstanceQueries;
  private readonly operations: Operations;
  /** The human-task inbox: list, get, claim, unclaim, complete (see `task-operations.ts`). */
  readonly tasks: TaskOperations;
  /** Outbox delivery: webhook subscriptions, in-process subscribers, deliveries (see `outbox/outbox.ts`). */
  readonly outbox: Outbox;
  /** Durable cron schedules: define, create, list, get, pause, resume, trigger, delete (see `schedules.ts`). */
  readonly schedules: Schedules;
  /** Bulk actions by filter: dry runs and durable jobs (see `bulk-jobs.ts`). */
  readonly bulk: BulkJobs;
  /** Retention of finished instances: `run({ tenant, dryRun })`, and periodically (see `retention.ts`). */
  readonly retention: Retention;
  private closed = false;
  private readonly onError: (e: unknown) => void;
  private readonly stopWakeups?: () => void;

  constructor(options: RuntimeOptions) {
    this.store = options.store;
    this.clock = options.clock ?? systemClock;
    this.workerId = options.workerId ?? `${hostname()}:${process.pid}`;
    this.onError = options.onError ?? ((e) => console.error('[statekeeper]', e));
    const minDelayMs = options.minDelayMs ?? DEFAULT_MIN_DELAY_MS;
    const rateLimit = options.transitionRateLimit ?? DEFAULT_TRANSITION_RATE_LIMIT;
    if (!Number.isInteger(minDelayMs) || minDelayMs < 0)
      throw RuntimeError.invalidArgument('createRuntime', 'minDelayMs must be an integer >= 0');
    const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    const heartbeatMs = options.heartbeatMs ?? Math.floor(leaseMs / 2);
    if (!Number.isInteger(leaseMs) || leaseMs < 100)
      throw RuntimeError.invalidArgument('createRuntime', 'leaseMs must be an integer >= 100');
    if (!Number.isInteger(heartbeatMs) || heartbeatMs < 0 || heartbeatMs >= leaseMs) {
      throw RuntimeError.invalidArgument('createRuntime', 'heartbeatMs must be an integer >= 0 and below leaseMs');
    }
    if (!isRateLimit(rateLimit)) {
      throw RuntimeError.invalidArgument('createRuntime', 'transitionRateLimit needs integers maxTransitions >= 1 and windowMs >= 1');
    }
    this.registry = new Registry(minDelayMs);
    this.engine = new Engine({
      store: this.store,
      registry: this.registry,
      clock: this.clock,
      owner: this.workerId,
      timerHorizonMs: options.timerHorizonMs ?? 60_000,
      pollIntervalMs: options.pollIntervalMs ?? 1000,
      leaseMs,
      heartbeatMs,
      maxCached: options.maxCachedInstances ?? 10_000,
      minDelayMs,
      rateLimit,
      onError: this.onError,
      observer: safeObserver(options.observer),
    });
    this.queries = new InstanceQueries({
      store: this.store,
      registry: this.registry,
      instances: this.engine.instances,
      feed: this.engine.feed,
    });
    this.operations = new Operations({ engine: this.engine, queries: this.queries, registry: this.registry });
    this.tasks = new TaskOperations({ store: this.store, clock: this.clock, apply: this.engine.apply });
    const observer = safeObserver(options.observer);
    this.outbox = new Outbox({
      store: options.outbox?.store ?? (this.store instanceof MemoryStore ? this.store.outboxStore : undefined),
      clock: this.clock,
      owner: this.workerId,
      options: options.outbox ?? {},
      defaultPollMs: options.pollIntervalMs ?? 1000,
      track: (p) => this.engine.track(p),
      onError: this.onError,
      observe: observer.delivery,
    });
    // A commit that wrote outbox rows wrote their deliveries: claim them now rather than at the next poll.
    this.engine.feed.subscribe((c) => c.emitted && this.outbox.wake());
    this.retention = new Retention({
      store: this.store,
      registry: this.registry,
      clock: this.clock,
      options: options.retention ?? {},
      onError: this.onError,
      track: (p) => this.engine.track(p),
      observer,
    });
    this.schedules = new Schedules({
      store: this.store.schedules,
      instances: this.store,
      clock: this.clock,
      owner: this.workerId,
      pollIntervalMs: options.pollIntervalMs ?? 1000,
      onError: this.onError,
      track: (p) => this.engine.track(p),
      start: (o) => this.start(o),
      cancel: (id, tenant, reason, caller) => this.cancel(id, { tenant, reason, caller }),
      checkStart: async (machine, input) => {
        const reg = this.registry.resolve(machine);
        if (reg.inputSchema) await checkInput(reg, input);
      },
    });
    const restartDeps = { engine: this.engine, store: this.store, registry: this.registry };
    this.bulk = new BulkJobs({
      store: options.bulkStore ?? bulkStoreOf(this.store),
      // Each instance through the operator commands, by stored id, scoped to the job's tenant.
      target: {
        get: (id, o) => this.queries.get(id, o),
        cancel: (id, o) => this.operations.cancel(id, o),
        retry: (id, o) => this.operations.retry(id, o),
        pause: (id, o) => this.operations.pause(id, o),
        resume: (id, o) => this.operations.resume(id, o),
        restart: async (id, o) => (await this.queries.get(id, o), restartInstance(restartDeps, id, o)),
        migrate: (id, o) => migrateInstance({ ...restartDeps, migrations: this.migrations }, id, { ...o, dryRun: false }),
      },
      clock: this.clock,
      owner: this.workerId,
      onError: this.onError,
      track: (p) => this.engine.track(p),
      // Jobs another process left are looked for less often than due effects: a job's lease lasts a minute.
      pollIntervalMs: (options.pollIntervalMs ?? 1000) * 10,
      batchSize: options.bulkBatchSize,
      storedIdOf: (id, tenant) => this.storedIdOf(id, { tenant }).catch(() => id),
    });
    if (options.steps) this.registry.registerSteps(options.steps);
    this.stopWakeups = options.wakeups?.subscribe((w) => this.wakeUp(w));
  }

  /** Another process's announcement (see {@link RuntimeOptions.wakeups}). */
  private wakeUp(w: Wakeup): void {
    if (this.closed) return;
    if (w.kind === 'instance') {
      this.engine.instances.evictOlderThanVersion(w.instanceId, w.version);
      // Announced by stored id (see instance-ids.ts); subscribers know instances by their public id.
      this.engine.feed.emitRemote({ instanceId: publicId(w.tenant, w.instanceId), tenant: w.tenant, version: w.version, status: w.status });
    } else if (w.kind === 'work' || w.kind === 'resync') {
      this.engine.poller.wake();
      this.outbox.wake();
    } else if (w.kind === 'deliveries') {
      this.outbox.wake();
    }
  }

  /** Registers a machine as `id@version` (and its step implementations, if given). */
  register(machine: AnyStateMachine, options: RegisterOptions): RegisteredMachine {
    return this.registry.register(machine, options);
  }

  /**
   * Registers a snapshot migration between two versions of a machine: a `migrate(snapshot) => { value, context }`
   * function, or a declarative `stateMap` with an optional `context` function. Nothing moves by itself: an
   * operator migrates instances with {@link migrateInstance}; chains (1 → 2 → 3) are followed.
   *
   * @example
   * runtime.registerMigration({ machine: 'order', from: '1', to: '2', stateMap: { waiting: 'shipping.waiting' } });
   */
  registerMigration(definition: MigrationDefinition): void {
    this.migrations.register(definition);
  }

  /**
   * Migrates an active instance to another registered version of its machine, or (`dryRun`, the default) reports
   * what that would do: the state mapping, the context diff, and which open timers and steps are kept,
   * cancelled or planned. A real migration is one version-checked commit with a `statekeeper.migrated` history
   * row naming the caller and reason. An instance the target cannot hold is refused (`migration_*` codes) and
   * left untouched.
   *
   * @example
   * const report = await runtime.migrateInstance(id, { to: '2' });             // dry run
   * await runtime.migrateInstance(id, { to: '2', dryRun: false, reason: 'fixes the reminder', caller });
   */
  migrateInstance(instanceId: string, options: MigrateOptions): Promise<MigrationReport> {
    this.assertOpen();
    const deps = { engine: this.engine, registry: this.registry, migrations: this.migrations };
    return this.scoped(instanceId, options.tenant, (id) => migrateInstance(deps, id, options));
  }

  /** A machine's instances of one tenant counted by version and status (also versions no longer registered here). */
  versionCounts(machineId: string, options: { tenant?: string } = {}): Promise<VersionCount[]> {
    checkId('versionCounts', 'machineId', machineId);
    return this.store.countByVersion(options.tenant ?? DEFAULT_TENANT, machineId);
  }

  /** Registers step implementations by the actor names machines invoke. */
  registerSteps(steps: StepRegistry): void {
    this.registry.registerSteps(steps);
  }

  /** Resumes what is due: open invocations, due timers, undelivered child results. Called by {@link createRuntime}. */
  async resume(): Promise<void> {
    await this.engine.poller.start();
    await this.outbox.start();
    await this.schedules.start();
    this.bulk.resume();
    this.retention.start();
  }

  /**
   * Starts an instance. With an idempotency key, a second start with the same
   * key returns the first instance (`created: false`); a different input under
   * the same key is refused with `idempotency_conflict`.
   */
  async start(options: StartOptions): Promise<StartResult> {
    this.assertOpen();
    checkStartOptions(options);
    const reg = this.registry.resolve(options.machine);
    if (reg.inputSchema) await checkInput(reg, options.input);
    const tenant = options.tenant ?? DEFAULT_TENANT;
    const inputHash = hashInput(reg.id, options.input);
    const key = options.idempotencyKey ?? null;
    if (key) {
      const existing = await this.store.getByIdempotencyKey(tenant, key);
      if (existing) return this.existing(existing, inputHash, key);
    }
    const id = options.instanceId ?? randomUUID();
    const exists = () =>
      new RuntimeError('instance_exists', `Instance "${id}" already exists; choose another id or use an idempotency key.`, {
        instanceId: id,
      });
    // This tenant's instance stored under the unqualified id before ids were scoped by tenant.
    if (options.instanceId && tenant !== DEFAULT_TENANT && (await this.store.get(id))?.tenant === tenant) throw exists();
    const { loaded, created } = await this.engine.track(
      this.engine.create({
        reg,
        // A chosen id is the tenant's own name for the instance; a generated one is unique everywhere as it is.
        id: options.instanceId ? storedId(tenant, id) : id,
        tenant,
        input: options.input,
        idempotencyKey: key,
        inputHash,
        parentId: null,
        parentRef: null,
        caller: options.caller,
      }),
    );
    if (created) return { ...view(loaded), created: true };
    // Lost a race: the key or the id already exists.
    if (key) {
      const existing = await this.store.getByIdempotencyKey(tenant, key);
      if (existing) return this.existing(existing, inputHash, key);
    }
    throw exists();
  }

  /** Sends an event; resolves after its commit with the new state and whether the state handled it. */
  async send(instanceId: string, event: EventObject & Record<string, unknown>, options: SendOptions = {}): Promise<SendResult> {
    this.assertOpen();
    checkId('send', 'instanceId', instanceId);
    checkEvent(event);
    if (options.tenant !== undefined) checkTenant('send', options.tenant);
    const { caller, tenant, idempotencyKey } = options;
    return this.scoped(instanceId, tenant, (id) =>
      this.engine.apply(id, event, { source: options.source ?? 'api', caller, tenant, idempotencyKey }),
    );
  }

  /**
   * Sends an event to the instance waiting on a business key (a key declared with
   * `RegisterOptions.correlation`): the tenant's one active instance indexed under `key` = `value`,
   * or with `all: true` every such instance. The event goes through the same path as {@link send}.
   * @throws RuntimeError `correlation_not_found`, `correlation_ambiguous` (several match without `all`;
   * `details.instanceIds`), `invalid_argument` (a key no registered machine declares), or what `send` throws.
   *
   * @example
   * runtime.register(order, { version: '1', correlation: { order: (ctx) => ctx.orderId } });
   * await runtime.correlate({ key: 'order', value: 'A-1001', event: { type: 'payment.succeeded' } });
   */
  correlate(options: CorrelateOptions): Promise<CorrelateResult> {
    this.assertOpen();
    return correlate({ store: this.store, registry: this.registry, apply: this.engine.apply }, options);
  }

  /** Current state of an instance (`instance_not_found` for an unknown id or another tenant's). */
  get(instanceId: string, options: { tenant?: string } = {}): Promise<InstanceView> {
    return this.scoped(instanceId, options.tenant, (id) => this.queries.get(id, options));
  }

  /** Lists instances, newest first, with cursor pagination. */
  async list(options: ListOptions & { tenant?: string } = {}): Promise<{ items: InstanceView[]; nextCursor: string | null }> {
    if (options.parentId === undefined || options.tenant === undefined) return this.queries.list(options);
    // The list is of the tenant's instances only: a parent it does not have simply has no children in it.
    const parentId = await this.storedIdOf(options.parentId, { tenant: options.tenant }).catch(() => options.parentId!);
    return this.queries.list({ ...options, parentId });
  }

  /** History of an instance, oldest first. */
  history(instanceId: string, options: { tenant?: string; afterSeq?: number; limit?: number } = {}): Promise<EventRecord[]> {
    return this.scoped(instanceId, options.tenant, async (id) =>
      (await this.queries.history(id, options)).map((e) => ({ ...e, instanceId: instanceId })),
    );
  }

  /** Effect rows (steps, timers, children, sends) of an instance. */
  effects(instanceId: string, options: { tenant?: string } = {}): Promise<EffectRecord[]> {
    return this.scoped(instanceId, options.tenant, (id) => this.queries.effects(id, options));
  }

  /** Outbox deliveries of an instance's emitted events, oldest first (see {@link Outbox.deliveries}). */
  deliveries(
    instanceId: string,
    options: Omit<DeliveryListOptions, 'instanceId'>,
  ): Promise<{ items: DeliveryView[]; nextCursor: string | null }> {
    return this.scoped(instanceId, options.tenant, async (id) => {
      await this.queries.get(id, options);
      return this.outbox.deliveries({ ...options, instanceId: id });
    });
  }

  /**
   * Details for an operator view, all of one version: the instance, the events
   * its current state accepts (with the roles each needs), steps, children and effect rows.
   */
  describe(instanceId: string, options: { tenant?: string } = {}): Promise<InstanceDetails> {
    return this.scoped(instanceId, options.tenant, (id) => this.queries.describe(id, options));
  }

  /**
   * Stops an instance from outside: status `stopped`, open effects cancelled,
   * running steps aborted, child instances stopped. Idempotent.
   */
  stopInstance(instanceId: string, reason = 'stopped', options: { tenant?: string; caller?: Caller } = {}): Promise<InstanceView> {
    this.assertOpen();
    return this.scoped(instanceId, options.tenant, (id) => this.operations.stop(id, reason, options));
  }

  /**
   * Operator retry: sends `operator.retry` when the current state accepts it
   * (a saga waiting after a failed compensation or step). Idempotent: when
   * there is nothing to retry, reports `handled: false` and changes nothing.
   */
  retry(instanceId: string, options: OperationOptions = {}): Promise<SendResult> {
    this.assertOpen();
    return this.scoped(instanceId, options.tenant, (id) => this.operations.retry(id, options));
  }

  /**
   * Cancels an instance: `workflow.cancel` when the machine defines it (a saga
   * compensates; nothing changes where the state refuses it), otherwise a stop. Idempotent.
   */
  cancel(instanceId: string, options: OperationOptions & { reason?: string } = {}): Promise<InstanceView> {
    this.assertOpen();
    return this.scoped(instanceId, options.tenant, (id) => this.operations.cancel(id, options));
  }

  /**
   * Pauses an active instance: nothing of it is dispatched and callers' events are refused
   * (`instance_paused`) until {@link resumeInstance}; the flag is stored and survives restarts. Idempotent.
   *
   * @example
   * await runtime.pauseInstance(id, { reason: 'ONU vendor maintenance window', caller: { id: 'ops:ana' } });
   * await runtime.resumeInstance(id);
   */
  pauseInstance(instanceId: string, options: OperationOptions & { reason?: string } = {}): Promise<InstanceView> {
    this.assertOpen();
    return this.scoped(instanceId, options.tenant, (id) => this.operations.pause(id, options));
  }

  /** Resumes a paused instance: steps, deliveries and timers that came due while paused are dispatched, in due order. Idempotent. */
  resumeInstance(instanceId: string, options: OperationOptions & { reason?: string } = {}): Promise<InstanceView> {
    this.assertOpen();
    return this.scoped(instanceId, options.tenant, (id) => this.operations.resume(id, options));
  }

  /**
   * Restarts an instance (any status, but not a child instance): a fresh instance of the same machine version
   * with the same input, `restartOf` linking it to the original, whose history records `statekeeper.restarted`
   * with the caller and reason. An original started under an idempotency key gives the restart
   * `<key>#restart-<n>`; the key itself keeps answering with the original. Resolves with the new instance.
   */
  async restartInstance(instanceId: string, options: { tenant?: string; caller?: Caller; reason?: string } = {}): Promise<InstanceView> {
    this.assertOpen();
    const deps = { engine: this.engine, store: this.store, registry: this.registry };
    const id = await this.scoped(instanceId, options.tenant, async (stored) => {
      await this.queries.get(stored, options);
      return restartInstance(deps, stored, options);
    });
    return this.queries.get(id, options);
  }

  /**
   * Forks an instance from its history entry `seq` (not a child instance): a new instance in the state the
   * original was in after that entry, `forkOf: { id, seq }` linking the two, both histories recording it with the
   * caller and reason. Steps completed by then are not run again (their results are in history); steps, child
   * instances and timers open after the entry are planned again under the fork's id, so steps run again under
   * new idempotency keys. Resolves with the new instance.
   * @throws RuntimeError `invalid_seq` (not an entry of the instance), `instance_not_active` (it had ended by then),
   * `fork_replay_mismatch` (the registered machine no longer reproduces its history).
   *
   * @example
   * const fork = await runtime.forkInstance(id, { seq: 9, reason: 'ONU outage over', caller: { id: 'ops:ana' } });
   */
  async forkInstance(
    instanceId: string,
    options: { seq: number; tenant?: string; caller?: Caller; reason?: string },
  ): Promise<InstanceView> {
    this.assertOpen();
    const deps = { engine: this.engine, store: this.store, registry: this.registry };
    const id = await this.scoped(instanceId, options.tenant, async (stored) => {
      await this.queries.get(stored, options);
      return forkInstance(deps, stored, options);
    });
    return this.queries.get(id, options);
  }

  /** Counts by machine and status, step failures and retries, outcomes and durations for a tenant. */
  stats(options: { tenant?: string } = {}): Promise<StoreStats> {
    return this.queries.stats(options);
  }

  /** Subscribes to committed changes (all instances); returns the unsubscribe function. */
  subscribe(listener: (change: InstanceChange) => void): () => void {
    return this.engine.feed.subscribe(listener);
  }

  /**
   * Subscribes to changes committed by other processes, as announced through
   * {@link RuntimeOptions.wakeups} (version and status only: read the instance
   * for the rest); returns the unsubscribe function.
   */
  subscribeRemote(listener: (change: RemoteChange) => void): () => void {
    return this.engine.feed.subscribeRemote(listener);
  }

  /**
   * Waits until `predicate` holds for the instance (checked now and after each
   * change), or rejects with `timeout` after `timeoutMs` of wall time.
   */
  waitFor(instanceId: string, predicate: (v: InstanceView) => boolean, timeoutMs = 10_000): Promise<InstanceView> {
    return this.queries.waitFor(instanceId, predicate, timeoutMs);
  }

  /**
   * Waits until `check` returns a value, checked now, after each committed
   * change (of `instanceId` / `tenant` when given) and every `pollMs`;
   * `undefined` when `timeoutMs` (default 10 s) passed first.
   */
  waitUntil<T>(check: () => Promise<T | undefined>, options: WaitUntilOptions = {}): Promise<T | undefined> {
    return this.queries.waitUntil(check, options);
  }

  /** Resolves when no event, step attempt or delivery is in flight (timers may still be waiting). */
  settled(): Promise<void> {
    return this.engine.settled();
  }

  /** Instances held in memory (for tests and metrics). */
  get cachedInstances(): number {
    return this.engine.instances.size;
  }

  /** Subscribers of the change feed right now (for tests and metrics). */
  get subscriberCount(): number {
    return this.engine.feed.size;
  }

  /**
   * Stops gracefully: no new work, in-flight commits finish, running steps are
   * aborted (they stay open and re-run after restart with the same key),
   * leases are released so another process can take over at once.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopWakeups?.();
    // The bulk batch in hand finishes (short commands) and its job is given up before the engine stops.
    await this.bulk.stop();
    this.engine.stopWork();
    this.outbox.stop();
    this.schedules.stop();
    this.retention.stop();
    await this.engine.settled();
    await this.store.releaseLeases(this.workerId).catch(this.onError);
    await this.outbox.release().catch(this.onError);
    await this.schedules.releaseLeases().catch(this.onError);
    this.engine.feed.close();
  }

  private existing(record: InstanceRecord, inputHash: string, key: string): StartResult {
    if (record.inputHash && record.inputHash !== inputHash) {
      throw new RuntimeError(
        'idempotency_conflict',
        `Idempotency key "${key}" was used to start instance "${record.id}" with a different machine or input.`,
        { instanceId: record.id, idempotencyKey: key },
      );
    }
    return { ...recordView(record), created: false };
  }

  /**
   * The stored id of an instance as `tenant` names it (see `instance-ids.ts`);
   * `instance_not_found` when the tenant has no such instance.
   */
  async storedIdOf(instanceId: string, options: { tenant?: string } = {}): Promise<string> {
    return this.scoped(instanceId, options.tenant, async (id) => (await this.queries.get(id, options), id));
  }

  /**
   * Runs `fn` with the stored id of the tenant's instance `instanceId`: the
   * tenant-qualified id, else (an instance stored before ids were scoped by
   * tenant) the id as given; every read behind `fn` checks the tenant. Without
   * a tenant (an operator, a test) the id is a stored id. Not found either way
   * answers as for an id that never existed.
   */
  private async scoped<T>(instanceId: string, tenant: string | undefined, fn: (storedId: string) => Promise<T>): Promise<T> {
    if (tenant === undefined || tenant === DEFAULT_TENANT) return fn(instanceId);
    checkId('get', 'instanceId', instanceId);
    // Generated ids (and their children's) are stored as they are: try that form first for them, the qualified one for the rest.
    const qualified = storedId(tenant, instanceId);
    const [first, second] = GENERATED.test(instanceId) ? [instanceId, qualified] : [qualified, instanceId];
    try {
      return await fn(first);
    } catch (e) {
      if (!(e instanceof RuntimeError) || e.code !== 'instance_not_found') throw e;
    }
    try {
      return await fn(second);
    } catch (e) {
      if (e instanceof RuntimeError && e.code === 'instance_not_found') throw RuntimeError.instanceNotFound(instanceId);
      throw e;
    }
  }

  private assertOpen(): void {
    if (this.closed) throw RuntimeError.closed();
  }
}

/**
 * Creates a runtime over a store and resumes due work (open steps, due timers).
 * Register machines before calling it when instances may already exist, or call
 * `runtime.resume()` yourself after registering: pass `resume: false`.
 */
export async function createRuntime(
  options: RuntimeOptions & { machines?: { machine: AnyStateMachine; options: RegisterOptions }[]; resume?: boolean },
): Promise<Runtime> {
  const runtime = new Runtime(options);
  // All or nothing: every step any machine lacks is listed in one error.
  runtime.registry.registerAll(options.machines ?? []);
  for (const s of options.schedules ?? []) await runtime.schedules.define(s);
  if (options.resume !== false) await runtime.resume();
  return runtime;
}

/** @throws RuntimeError `input_invalid` with every issue when the input fails the registered schema. */
async function checkInput(reg: RegisteredMachine, input: unknown): Promise<void> {
  const result = await reg.inputSchema!['~standard'].validate(input);
  if (!result.issues) return;
  const issues = issueList(result.issues);
  const first = issues[0];
  throw new RuntimeError(
    'input_invalid',
    `The input does not match the input schema of machine "${reg.ref}"${first ? `: ${first.path || 'input'}: ${first.message}` : ''}.`,
    { machine: reg.ref, issues },
  );
}
