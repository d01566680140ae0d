import type { AnyMachineSnapshot, EventObject } from 'xstate';
import { ChangeFeed } from './change-feed.ts';
import { indexedNow } from './correlation.ts';
import { EffectExecutor } from './effect-executor.ts';
import type { EffectPlan, PlanContext } from './effect-plan.ts';
import { noEffects, planEffects } from './effect-plan.ts';
import { EffectPoller } from './effect-poller.ts';
import { RuntimeError, serializeError } from './errors.ts';
import { InstanceCache, type LoadedInstance } from './instance-cache.ts';
import { initialStep } from './machine-snapshot.ts';
import { Mailboxes } from './mailboxes.ts';
import { MIGRATED_EVENT, type MigrationReport, type PreparedMigration } from './migration-plan.ts';
import { failedEvent, loadOrQuarantine, REVIVE_EVENT, revivedSnapshot, type QuarantineDeps } from './quarantine.ts';
import type { Clock, CommitResult, CreateRequest, EffectRecord, InstanceRecord, InstanceStore, PriorEvent } from './ports.ts';
import type { Registry, RegisteredMachine } from './registry.ts';
import { LeaseKeeper } from './lease-keeper.ts';
import { StepRunner } from './step-runner.ts';
import { checkTaskAnswer, diffTasks } from './tasks.ts';
import { ATTR, SPAN, captureTraceContext, inSpan, stateLabel, storedContext } from './telemetry.ts';
import { TransitionBudget, type TransitionRateLimit } from './transition-budget.ts';
import {
  type ApplyOptions,
  changeOf,
  checkRoles,
  decide,
  type Decision,
  eventRow,
  halt,
  PAUSE_EVENT,
  RATE_LIMIT_EVENT,
  RESUME_EVENT,
  resultOf,
  stopEvent,
  updateOf,
  withCorrelation,
} from './transition.ts';
import type { Caller, InstanceChange, SendResult } from './types.ts';
import type { RuntimeObserver } from './observer.ts';

/** Options of {@link Engine}. */
export interface EngineOptions {
  readonly store: InstanceStore;
  readonly registry: Registry;
  readonly clock: Clock;
  /** This process's lease owner id. */
  readonly owner: string;
  /** Timers due within this window are armed in memory. */
  readonly timerHorizonMs: number;
  /** How often due work is claimed (0 disables polling). */
  readonly pollIntervalMs: number;
  /** Lease length of effects this process takes (lease-keeper.ts). */
  readonly leaseMs: number;
  /** How often the leases of effects this process works on are renewed (0: never). */
  readonly heartbeatMs: number;
  /** Idle instances kept in memory. */
  readonly maxCached: number;
  /** Delays computed below this end the instance in error. */
  readonly minDelayMs: number;
  /** Committed transitions one instance may make per window before it is ended in error. */
  readonly rateLimit: TransitionRateLimit;
  readonly onError: (e: unknown) => void;
  readonly observer: Required<RuntimeObserver>;
}

/** A new instance: {@link Engine.create}'s argument. */
export interface CreateArgs {
  readonly reg: RegisteredMachine;
  readonly id: string;
  readonly tenant: string;
  readonly input: unknown;
  readonly idempotencyKey: string | null;
  readonly inputHash: string | null;
  readonly parentId: string | null;
  readonly parentRef: string | null;
  /** The parent's child effect this instance fulfils. */
  readonly startedBy?: string;
  readonly caller?: Caller;
  /** The instance an operator restarted as this one. */
  readonly restartOf?: string;
  /** A fork: starts from a rebuilt snapshot instead of the initial state (see `fork.ts`). */
  readonly fork?: ForkStart;
}

/** How a fork starts (see `fork.ts`): the snapshot after the entry it was forked from, and what was open then. */
export interface ForkStart {
  readonly snapshot: AnyMachineSnapshot;
  /** The original and the history entry. */
  readonly forkOf: { id: string; seq: number };
  /** The original's history rows 1..seq, copied before the fork's own row. */
  readonly priorEvents: PriorEvent[];
  /** The fork's own first history row (seq + 1). */
  readonly event: CreateRequest['event'];
  /** Plans again, under the fork's id, the effects that were open after the entry. */
  readonly plan: (ctx: PlanContext) => EffectPlan;
}

/** How one decide-and-commit round ended. */
type RoundOutcome =
  | { kind: 'unhandled' }
  | { kind: 'committed'; plan: EffectPlan; handled: boolean; cancelledTimers?: string[] }
  | { kind: Exclude<CommitResult, { ok: true }>['reason'] };

/**
 * Version conflicts are retried after a short random pause that grows with
 * each conflict: without it, the runtime whose cache is current wins every
 * race and another runtime sending to the same instance starves until its
 * budget runs out. The budget is a count and a wall-clock time, whichever
 * ends first.
 */
const MAX_CONFLICT_RETRIES = 200;
const CONFLICT_BUDGET_MS = 15_000;
const conflictPause = (attempt: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(100, 2 ** Math.min(attempt, 7))));

/**
 * The engine loop: for each event of an instance, one at a time in arrival
 * order, **decide** (the machine's pure transition and its effect plan),
 * **commit** (snapshot, history, effect rows in one transaction, version
 * checked), then **dispatch** (carry out the effects, tell subscribers).
 * Effect outcomes (step results, due timers, deliveries, finished children)
 * come back as events through {@link Engine.apply}: the loop closes there.
 *
 * @remarks The parts are built in order: cache, step runner and executor
 * (both given `apply`), poller. Nothing is bound late and nothing below calls
 * back into a part above except through `apply`, the loop's input.
 */
export class Engine {
  readonly mailboxes = new Mailboxes();
  readonly feed: ChangeFeed;
  readonly instances: InstanceCache;
  readonly poller: EffectPoller;
  readonly leases: LeaseKeeper;
  private readonly steps: StepRunner;
  private readonly executor: EffectExecutor;
  private readonly quarantine: QuarantineDeps;
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly budget: TransitionBudget;

  constructor(private readonly o: EngineOptions) {
    this.budget = new TransitionBudget(o.rateLimit);
    const { store, registry, clock, onError, observer } = o;
    const track = <T>(p: Promise<T>) => this.track(p);
    this.feed = new ChangeFeed(onError);
    this.instances = new InstanceCache({ store, registry, maxCached: o.maxCached, busy: (id) => this.mailboxes.busy(id) });
    this.steps = new StepRunner({ store, registry, clock, leaseMs: o.leaseMs, apply: this.apply, track, onError, observer });
    const createChild = ({ parent, effect }: { parent: LoadedInstance; effect: EffectRecord }) =>
      this.create({
        reg: registry.resolve(effect.target ?? ''),
        id: effect.id,
        tenant: parent.record.tenant,
        input: effect.input ?? undefined,
        idempotencyKey: null,
        inputHash: null,
        parentId: parent.record.id,
        parentRef: effect.name,
        startedBy: effect.id,
      });
    this.quarantine = { store, clock, instances: this.instances, feed: this.feed };
    this.executor = new EffectExecutor({
      store,
      clock,
      owner: o.owner,
      instances: this.instances,
      load: (id) => loadOrQuarantine(this.quarantine, id),
      steps: this.steps,
      apply: this.apply,
      createChild,
      track,
      onError,
      observer,
    });
    this.poller = new EffectPoller({ ...o, executor: this.executor, instances: this.instances });
    this.leases = new LeaseKeeper({
      store,
      clock,
      owner: o.owner,
      leaseMs: o.leaseMs,
      heartbeatMs: o.heartbeatMs,
      held: () => {
        const held = new Map<string, object>();
        this.steps.held(held);
        this.executor.held(held);
        return held;
      },
      lost: (entries) => {
        // Reported are only the attempts and timers dropped: a delivery whose commit closed its row while the
        // renewal ran (the usual way a lease ends) is no loss.
        const dropped = [...this.steps.drop(entries), ...this.executor.drop(entries)];
        if (dropped.length) observer.leaseLost({ owner: o.owner, effectIds: dropped });
      },
      onError,
    });
    this.leases.start();
  }

  /** Applies one event through the instance's mailbox: decide → commit → dispatch; resolves after the commit. */
  readonly apply = (instanceId: string, event: EventObject, opts: ApplyOptions): Promise<SendResult> =>
    this.track(this.mailboxes.run(instanceId, () => this.applyNow(instanceId, event, opts)));

  /**
   * Stops an instance through the same loop: a `statekeeper.stop` event committed with
   * status `stopped` and every open effect cancelled; running steps are aborted,
   * timers disarmed and child instances stopped as that commit's effects.
   * Reports `handled: false` when the instance was not active.
   */
  stop(instanceId: string, reason: string, opts: { tenant?: string; caller?: Caller } = {}): Promise<SendResult> {
    return this.apply(instanceId, stopEvent(reason), { source: 'operator', tenant: opts.tenant, caller: opts.caller, stop: true });
  }

  /**
   * Operator retry of an instance in `error` (quarantined): restores its stored snapshot with the newest
   * registered version of its machine (one commit, status `active`, the version recorded), resumes its open
   * effects and applies again the event whose transition failed. `handled: false` when it is not in error.
   * @throws IncompatibleSnapshotError when no registered version restores it yet (nothing changes).
   */
  async revive(instanceId: string, opts: { tenant?: string; caller?: Caller } = {}): Promise<SendResult> {
    let revived = false;
    const res = await this.track(
      this.mailboxes.run(instanceId, async () => {
        this.instances.evict(instanceId);
        const record = await this.o.store.get(instanceId);
        if (!record || (opts.tenant !== undefined && record.tenant !== opts.tenant)) throw RuntimeError.instanceNotFound(instanceId);
        const reg = this.o.registry.resolve(record.machineId);
        const stale = { record, reg, snapshot: null as never, lastUsed: Date.now() };
        if (record.status !== 'error') return resultOf(stale, false, false);
        const snapshot = revivedSnapshot(record, reg);
        const failed = await failedEvent(this.o.store, record);
        const now = this.o.clock.now();
        const update = updateOf(reg, snapshot);
        const res = await this.o.store.commit({
          instanceId,
          expectedVersion: record.version,
          change: update,
          machineVersion: reg.version,
          event: {
            type: REVIVE_EVENT,
            payload: { machine: reg.ref, reapply: failed?.type ?? null },
            source: 'operator',
            actor: opts.caller?.id ?? null,
            handled: true,
            idempotencyKey: null,
          },
          ...noEffects(),
          // Its rows went when it failed: index it again as it now stands.
          correlation: withCorrelation(reg, undefined, snapshot, [])[2] ?? null,
          now,
        });
        if (!res.ok) throw new RuntimeError('concurrency_exhausted', `Instance "${instanceId}" changed during the retry; retry again.`);
        revived = true;
        const loaded = this.instances.remember({
          record: { ...record, ...update, machineVersion: reg.version, version: res.version, updatedAt: now },
          reg,
          snapshot,
          lastUsed: Date.now(),
        });
        this.dispatch(loaded, noEffects(), REVIVE_EVENT, { source: 'operator' });
        // Its open effects were left open while it was in error: run them now (a step, a timer held here, a send).
        for (const e of await this.o.store.effects(instanceId)) if (e.status === 'pending') this.executor.run(e);
        if (!failed) return resultOf(loaded, true, false);
        return this.applyNow(instanceId, failed, { source: 'operator', caller: opts.caller });
      }),
    );
    // Its effects were not claimed while it was in error: those whose lease lapsed (or was released by a restart)
    // are claimed now rather than at the next poll (simulation mode has none).
    if (revived) await this.poller.dispatchDue();
    return res;
  }

  /**
   * Migrates an instance to another version of its machine, in its mailbox (no event of it runs meanwhile):
   * `prepare` decides from the stored row and effects (see `migration-plan.ts`); a dry run returns its report,
   * otherwise one version-checked commit rewrites snapshot and version, cancels the open effects the target
   * does not keep (with the reason on their rows), opens the planned ones and records `statekeeper.migrated`
   * with the caller and reason; then the cancellations and new effects are carried out, as after any commit.
   * @throws what `prepare` throws (a refusal: nothing written), `concurrency_exhausted` when another process
   *   changed the instance between the read and the commit.
   */
  migrate(
    instanceId: string,
    opts: { dryRun: boolean; tenant?: string; caller?: Caller; payload: Record<string, unknown> },
    prepare: (a: {
      record: InstanceRecord;
      effects: EffectRecord[];
      planning: (reg: RegisteredMachine) => PlanContext;
    }) => Promise<PreparedMigration>,
  ): Promise<MigrationReport> {
    return this.track(
      this.mailboxes.run(instanceId, async () => {
        const record = await this.o.store.get(instanceId);
        if (!record || (opts.tenant !== undefined && record.tenant !== opts.tenant)) throw RuntimeError.instanceNotFound(instanceId);
        if (record.status !== 'active') throw RuntimeError.notActive(instanceId, record.status);
        const attrs = {
          [ATTR.instanceId]: record.id,
          [ATTR.machine]: `${record.machineId}@${record.machineVersion}`,
          [ATTR.tenant]: record.tenant,
          [ATTR.migrationFrom]: record.machineVersion,
          [ATTR.migrationDryRun]: opts.dryRun,
        };
        // A span of the instance's own trace, like its events: "show me this workflow" shows the migration too.
        return inSpan(SPAN.migrate, storedContext(record.traceContext), attrs, async (span) => {
          const now = this.o.clock.now();
          const effects = await this.o.store.effects(instanceId);
          const planning = (reg: RegisteredMachine) => this.planning(reg, record.id, record.parentId, record.version + 1, now);
          const m = await prepare({ record, effects, planning });
          span.setAttribute(ATTR.migrationTo, m.target.version);
          if (opts.dryRun) return m.report;
          // While paused, new effects are written unleased and not run (as for any commit of a paused instance).
          const plan = record.paused ? unleased(m.plan) : m.plan;
          // The target version may read other keys: its values replace the index rows (a bad one refuses the migration).
          const correlation = indexedNow(m.target, m.snapshot);
          const res = await this.o.store.commit({
            instanceId,
            expectedVersion: record.version,
            change: m.update,
            machineVersion: m.target.version,
            event: {
              type: MIGRATED_EVENT,
              payload: { ...opts.payload, from: record.machineVersion, to: m.target.version, migration: m.report.migration },
              source: 'operator',
              actor: opts.caller?.id ?? null,
              handled: true,
              idempotencyKey: null,
            },
            newEffects: plan.newEffects,
            cancel: plan.cancel,
            cancelReason: { code: 'migrated', message: `cancelled by the migration from ${record.machineVersion} to ${m.target.version}` },
            outbox: [],
            tasks: m.tasks,
            correlation,
            now,
          });
          if (!res.ok)
            throw new RuntimeError('concurrency_exhausted', `Instance "${instanceId}" changed during the migration; run it again.`, {
              instanceId,
            });
          const loaded = this.instances.remember({
            record: { ...record, ...m.update, machineVersion: m.target.version, version: res.version, updatedAt: now },
            reg: m.target,
            snapshot: m.snapshot,
            lastUsed: Date.now(),
          });
          this.dispatch(loaded, plan, MIGRATED_EVENT, { source: 'operator' }, res.cancelledTimers);
          return m.report;
        });
      }),
    );
  }

  /**
   * Pauses an instance through the same loop: a `statekeeper.pause` event committed with the instance's
   * `paused` flag set; nothing else changes. Reports `handled: false` when it was already paused.
   */
  pause(instanceId: string, reason: string | undefined, opts: { tenant?: string; caller?: Caller } = {}): Promise<SendResult> {
    const event = { type: PAUSE_EVENT, ...(reason ? { reason } : {}) } as EventObject;
    return this.apply(instanceId, event, { source: 'operator', tenant: opts.tenant, caller: opts.caller, lifecycle: 'pause' });
  }

  /**
   * Resumes a paused instance: a `statekeeper.resume` event committed with the flag cleared and the leases of
   * its open timers released, then one poll round claims and dispatches what is due (steps and deliveries
   * planned while paused, timers that came due, in due order). Reports `handled: false` when it was not paused.
   */
  async resume(instanceId: string, reason: string | undefined, opts: { tenant?: string; caller?: Caller } = {}): Promise<SendResult> {
    const event = { type: RESUME_EVENT, ...(reason ? { reason } : {}) } as EventObject;
    const res = await this.apply(instanceId, event, { source: 'operator', tenant: opts.tenant, caller: opts.caller, lifecycle: 'resume' });
    if (res.handled) await this.poller.dispatchDue();
    return res;
  }

  /** Creates an instance in its initial state: the initial transition committed with its first effects, then dispatched. */
  async create(args: CreateArgs): Promise<{ loaded: LoadedInstance; created: boolean }> {
    const { reg } = args;
    return inSpan(
      SPAN.start,
      storedContext(null),
      { [ATTR.instanceId]: args.id, [ATTR.machine]: reg.ref, [ATTR.tenant]: args.tenant },
      async (span) => {
        const { fork } = args;
        const [first, firstActions] = fork
          ? [fork.snapshot, []]
          : initialStep(reg.machine, args.input, args.parentId !== null, this.o.minDelayMs);
        // A fork is indexed as it stands at its entry, a new instance as its initial state.
        const [snapshot, actions, correlation] = withCorrelation(reg, undefined, first, firstActions);
        const now = this.o.clock.now();
        // A fork's first commit follows its copied history: its version (and effect generation) is the entry's seq + 1.
        const version = fork ? fork.forkOf.seq + 1 : 1;
        const planning = this.planning(reg, args.id, args.parentId, version, now);
        const plan = fork ? fork.plan(planning) : planEffects(actions, planning);
        const event = fork?.event ?? {
          type: 'xstate.init',
          payload: args.input === undefined ? null : { input: args.input },
          source: 'start' as const,
          actor: args.caller?.id ?? null,
          handled: true,
          idempotencyKey: null,
        };
        const tasks = diffTasks(undefined, snapshot, {
          instanceId: args.id,
          tenant: args.tenant,
          machineId: reg.id,
          generation: version,
          now,
          eventType: event.type,
          actor: args.caller?.id ?? null,
          newEffects: plan.newEffects,
        });
        const record: InstanceRecord = {
          id: args.id,
          tenant: args.tenant,
          machineId: reg.id,
          machineVersion: reg.version,
          ...updateOf(reg, snapshot),
          version,
          parentId: args.parentId,
          parentRef: args.parentRef,
          idempotencyKey: args.idempotencyKey,
          inputHash: args.inputHash,
          traceContext: captureTraceContext(),
          paused: false,
          restartOf: args.restartOf ?? null,
          forkOf: fork?.forkOf ?? null,
          createdAt: now,
          updatedAt: now,
        };
        const res = await this.o.store.create({
          record,
          event,
          newEffects: plan.newEffects,
          outbox: plan.outbox,
          startedBy: args.startedBy,
          tasks,
          ...(fork && { priorEvents: fork.priorEvents }),
          correlation,
        });
        span.setAttribute(ATTR.stateAfter, stateLabel(record.stateValue));
        if (!res.ok) return { loaded: await this.instances.load(args.id).catch(() => undefined as never), created: false };
        const loaded = this.instances.remember({ record, reg, snapshot, lastUsed: Date.now() });
        this.dispatch(loaded, plan, event.type);
        return { loaded, created: true };
      },
    );
  }

  /** Resolves when no event, step attempt or delivery is in flight (timers may still be waiting). */
  async settled(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
    await this.mailboxes.idle();
  }

  /** Keeps a promise in the set {@link settled} waits for. */
  track<T>(p: Promise<T>): Promise<T> {
    this.inflight.add(p);
    const remove = () => this.inflight.delete(p);
    p.then(remove, remove);
    return p;
  }

  /** No more polling, timers or step attempts; running steps are aborted (their rows stay open). */
  stopWork(): void {
    this.leases.stop();
    this.poller.stop();
    this.executor.stop();
    this.steps.stop();
  }

  /** One event: admit, then decide and commit; a version conflict reloads and decides again. */
  private async applyNow(id: string, event: EventObject, opts: ApplyOptions): Promise<SendResult> {
    const started = Date.now();
    const t0 = performance.now();
    for (let attempt = 0; ; attempt++) {
      const loaded = await loadOrQuarantine(this.quarantine, id, { rethrow: !opts.closeEffect });
      const early = await this.admit(loaded, event, opts);
      if (early) return early;
      const outcome = await this.decideAndCommit(loaded, event, opts);
      switch (outcome.kind) {
        case 'committed':
          this.dispatch(
            loaded,
            outcome.plan,
            event.type,
            { source: opts.source, durationMs: performance.now() - t0 },
            outcome.cancelledTimers,
          );
          return resultOf(loaded, outcome.handled, false);
        case 'unhandled':
        // The step was cancelled or already answered (a re-run after a crash): exactly one result counts.
        case 'effect_closed':
          return resultOf(loaded, false, false);
        case 'duplicate_event':
          // Another process applied the same idempotency key first: the next round answers with it.
          this.instances.evict(id);
          continue;
        case 'version_conflict':
          this.instances.evict(id);
          if (attempt >= MAX_CONFLICT_RETRIES || Date.now() - started > CONFLICT_BUDGET_MS) {
            throw new RuntimeError(
              'concurrency_exhausted',
              `Instance "${id}" kept changing under event "${event.type}" (${attempt} version conflicts); retry the request.`,
              { instanceId: id },
            );
          }
          await conflictPause(attempt);
      }
    }
  }

  /**
   * Answers an event that must not reach the machine: another tenant's
   * instance, a repeated idempotency key, an instance that is no longer
   * active, a caller without the required role. `undefined` lets it through.
   */
  private async admit(loaded: LoadedInstance, event: EventObject, opts: ApplyOptions): Promise<SendResult | undefined> {
    const { record } = loaded;
    if (opts.tenant !== undefined && record.tenant !== opts.tenant) throw RuntimeError.instanceNotFound(record.id);
    if (opts.note) return undefined;
    if (opts.idempotencyKey) {
      const prior = await this.o.store.eventByIdempotencyKey(record.id, opts.idempotencyKey);
      if (prior) return resultOf(loaded, prior.handled, true);
    }
    if (record.status !== 'active') {
      // An instance in error may be brought back by an operator retry: its effects stay open for it (not run).
      if (opts.closeEffect && record.status === 'error') return resultOf(loaded, false, false);
      if (opts.closeEffect) {
        await this.o.store.closeEffect(
          opts.closeEffect.id,
          'failed',
          { message: `instance ${record.id} is ${record.status}` },
          this.o.clock.now(),
        );
        return resultOf(loaded, false, false);
      }
      if (opts.stop) return resultOf(loaded, false, false);
      throw RuntimeError.notActive(record.id, record.status);
    }
    // Pausing a paused instance, or resuming one that is not: nothing to do.
    if (opts.lifecycle) return (opts.lifecycle === 'pause') === record.paused ? resultOf(loaded, false, false) : undefined;
    if (record.paused && !opts.stop) {
      // A due timer or another instance's send waits: its row stays open and is delivered after the resume.
      if (opts.heldWhilePaused) return resultOf(loaded, false, false);
      // Callers' events (and operator retry/cancel) are refused; results of work already started (a step that
      // was running, a child that finished) are applied, their new effects recorded but not dispatched.
      if (!opts.closeEffect) throw RuntimeError.paused(record.id);
    }
    if (opts.caller?.roles && !opts.stop) checkRoles(loaded, event, opts.caller.roles);
    // A task's form holds for its event from any entry point, not only POST /v1/tasks/{id}/complete.
    if (!opts.stop && !opts.closeEffect) checkTaskAnswer(loaded.snapshot, event as EventObject & { answer?: unknown });
    return undefined;
  }

  /** Decides the event and commits the decision in one transaction (one span per event). */
  private decideAndCommit(loaded: LoadedInstance, event: EventObject, opts: ApplyOptions): Promise<RoundOutcome> {
    const { record, reg } = loaded;
    const attrs = {
      [ATTR.instanceId]: record.id,
      [ATTR.machine]: reg.ref,
      [ATTR.tenant]: record.tenant,
      [ATTR.eventType]: event.type,
      [ATTR.eventSource]: opts.source,
      [ATTR.stateBefore]: stateLabel(record.stateValue),
    };
    return inSpan(SPAN.event, storedContext(record.traceContext), attrs, async (span): Promise<RoundOutcome> => {
      const now = this.o.clock.now();
      const planning = this.planning(reg, record.id, record.parentId, record.version + 1, now);
      // A runaway (a short timer or a self-send on a state that re-enters itself) is ended here, before its
      // next transition, with every open effect cancelled: history stops growing at the limit.
      const runaway = !opts.stop && !this.budget.allows(record.id, now.getTime());
      const decision: Decision = runaway
        ? halt(loaded, 'error', this.rateLimitError(record.id), null)
        : decide(loaded, event, opts, planning, this.o.minDelayMs);
      const recorded: EventObject = runaway
        ? ({ type: RATE_LIMIT_EVENT, eventType: event.type, ...this.o.rateLimit } as EventObject)
        : event;
      span.setAttribute(ATTR.handled, decision.handled);
      // An unhandled event changes nothing, unless it closes an effect (a late step result, a timer).
      if (!decision.handled && !opts.closeEffect) return { kind: 'unhandled' };
      const { update } = decision;
      // While paused, new effects are written unleased and not run: the poller claims them after the resume.
      const plan = record.paused && opts.lifecycle !== 'resume' ? unleased(decision.plan) : decision.plan;
      const res = await this.o.store.commit({
        instanceId: record.id,
        expectedVersion: record.version,
        change: update,
        event: eventRow(recorded, opts, decision.handled),
        closeEffect: opts.closeEffect,
        newEffects: plan.newEffects,
        cancel: plan.cancel,
        superseded: plan.superseded,
        outbox: plan.outbox,
        tasks: decision.tasks,
        releaseTimers: opts.lifecycle === 'resume' || undefined,
        correlation: decision.correlation,
        now,
      });
      if (!res.ok) return { kind: res.reason };
      if (update.status === 'active') this.budget.record(record.id, now.getTime());
      else this.budget.forget(record.id);
      span.setAttribute(ATTR.stateAfter, stateLabel(update.stateValue));
      span.setAttribute(ATTR.status, update.status);
      loaded.record = { ...record, ...update, paused: update.paused ?? record.paused, version: res.version, updatedAt: now };
      loaded.snapshot = decision.next;
      return { kind: 'committed', plan, handled: decision.handled, cancelledTimers: res.cancelledTimers };
    });
  }

  /** The error a runaway instance ends with (stored on the instance; `code` tells it from a machine's own error). */
  private rateLimitError(instanceId: string) {
    const { maxTransitions, windowMs } = this.o.rateLimit;
    const e = new RuntimeError(
      'transition_rate_exceeded',
      `Instance "${instanceId}" committed ${maxTransitions} transitions within ${windowMs} ms and was ended: ` +
        'a timer or self-sent event on a state that re-enters itself? Raise the limit (runtime option transitionRateLimit, ' +
        'STATEKEEPER_MAX_TRANSITIONS / STATEKEEPER_TRANSITION_WINDOW_MS) if this rate is intended.',
      { instanceId, maxTransitions, windowMs },
    );
    return serializeError(e);
  }

  /** After a commit: carry out its effects, then tell subscribers. */
  private dispatch(
    loaded: LoadedInstance,
    plan: EffectPlan,
    eventType: string,
    measured?: Pick<InstanceChange, 'source' | 'durationMs'>,
    cancelledTimers?: readonly string[],
  ): void {
    this.executor.execute(loaded, plan, cancelledTimers);
    const emitted = plan.outbox.length ? { emitted: plan.outbox.length } : {};
    this.feed.emit({ ...changeOf(loaded, eventType), ...measured, ...emitted });
  }

  private planning(reg: RegisteredMachine, instanceId: string, parentId: string | null, generation: number, now: Date): PlanContext {
    return {
      instanceId,
      parentId,
      machine: reg.machine,
      generation,
      now,
      owner: this.o.owner,
      timerHorizonMs: this.o.timerHorizonMs,
      leaseMs: this.o.leaseMs,
    };
  }
}

/** A plan whose new effects no process holds: written while paused, claimed by the poller after the resume. */
function unleased(plan: EffectPlan): EffectPlan {
  // Nothing runs while paused: a step's first call is not made now, so this commit does not record it.
  return {
    ...plan,
    newEffects: plan.newEffects.map((e) => ({ ...e, leaseOwner: null, leaseUntil: null, ...(e.kind === 'step' ? { attempts: 0 } : {}) })),
  };
}
