import type { EventObject } from 'xstate';
import { decodeTarget, type CancelKey } from './effect-address.ts';
import { openEffect, type EffectPlan } from './effect-plan.ts';
import type { InstanceCache, LoadedInstance } from './instance-cache.ts';
import type { Clock, EffectRecord, InstanceRecord, InstanceStore } from './ports.ts';
import { isMachine } from './registry.ts';
import type { StepOwner, StepRunner } from './step-runner.ts';
import { stopEvent, type ApplyFn } from './transition.ts';
import { ROLLING_BACK_TAG, type RuntimeObserver } from './observer.ts';
import { declaresEvent } from './operator-events.ts';
import { ATTR, SPAN, inSpan, storedContext } from './telemetry.ts';

/** Starts a child instance in the engine loop (its first commit fulfils the parent's child effect). */
export type CreateChildFn = (args: { parent: LoadedInstance; effect: EffectRecord }) => Promise<unknown>;

/** Options of {@link EffectExecutor}. */
export interface EffectExecutorOptions {
  readonly store: InstanceStore;
  readonly clock: Clock;
  /** This process's lease owner id: timers leased to it are armed here. */
  readonly owner: string;
  readonly instances: InstanceCache;
  /** Loads an instance for its effects (quarantining one whose snapshot cannot be restored). */
  readonly load: (instanceId: string) => Promise<LoadedInstance>;
  readonly steps: StepRunner;
  /** The engine's input: every effect's outcome comes back as an event through it. */
  readonly apply: ApplyFn;
  readonly createChild: CreateChildFn;
  readonly track: <T>(p: Promise<T>) => Promise<T>;
  readonly onError: (e: unknown) => void;
  readonly observer: Required<RuntimeObserver>;
}

/**
 * Carries out committed effects: starts steps, arms timers, delivers events
 * to other instances, starts child instances, reports a finished child to its
 * parent, and carries out cancellations (aborting steps, disarming timers,
 * stopping child instances).
 *
 * @remarks Everything here runs after the commit that recorded it, and every
 * outcome returns as an event through `apply`: the executor never writes an
 * instance itself.
 */
export class EffectExecutor {
  /**
   * Armed timers by effect id. Two delayed sends with the same id are two rows and both fire, as in XState's
   * scheduler (a later schedule does not clear an earlier one); a cancel by that id cancels the one row that
   * holds the id, which the commit names (`cancelledTimers`), and only that one is disarmed.
   */
  private readonly timers = new Map<string, { id: string; instanceId: string; cancel: () => void }>();
  /** Deliveries and child starts under way (leased to this process until they commit). */
  private readonly delivering = new Map<string, object>();
  private stopped = false;

  constructor(private readonly o: EffectExecutorOptions) {}

  /**
   * Carries out a commit's plan: cancellations first (`cancelledTimers`: the timer rows the commit cancelled),
   * then the new effects, then the parent report of a finished child.
   */
  execute(loaded: LoadedInstance, plan: EffectPlan, cancelledTimers: readonly string[] = []): void {
    const rec = loaded.record;
    for (const id of cancelledTimers) this.disarm((t) => t.id === id);
    for (const key of plan.cancel) this.cancel(loaded, key);
    const owner = ownerOf(loaded);
    const now = this.o.clock.now();
    // A paused instance's new effects wait unleased for the poller, which claims them after the resume.
    if (!rec.paused) for (const e of plan.newEffects) this.run(openEffect(e, rec.id, now), owner, true);
    if (rec.status !== 'active' && rec.parentId) this.reportToParent(rec);
  }

  /**
   * Runs one open effect held (leased) by this process; `fresh` when its commit has just opened it
   * (a step's first call is then already recorded).
   */
  run(effect: EffectRecord, owner?: StepOwner, fresh = false): void {
    if (this.stopped) {
      // Stopping: the first call its commit recorded will not be made here.
      if (fresh && effect.kind === 'step') this.o.steps.release(effect);
      return;
    }
    switch (effect.kind) {
      case 'step':
        if (owner) this.o.steps.start(effect, owner, fresh);
        else
          void this.o
            // A step of an instance in error is left open, not run: an operator retry may bring the instance back.
            .track(this.o.load(effect.instanceId).then((l) => l.record.status === 'active' && this.o.steps.start(effect, ownerOf(l))))
            .catch(this.o.onError);
        break;
      case 'timer':
        if (effect.leaseOwner === this.o.owner) this.arm(effect);
        break;
      case 'send':
        void this.o.track(this.holding(effect.id, () => this.deliver(effect, 'system'))).catch(this.o.onError);
        break;
      case 'child':
        void this.o.track(this.holding(effect.id, () => this.startChild(effect))).catch(this.o.onError);
        break;
    }
  }

  /** Sends `xstate.done.actor.<ref>` / `xstate.error.actor.<ref>` to the parent, closing its child effect. */
  reportToParent(child: InstanceRecord, effect?: EffectRecord): void {
    if (!child.parentId || !child.parentRef) return;
    const ok = child.status === 'done';
    const event = ok
      ? { type: `xstate.done.actor.${child.parentRef}`, output: child.output ?? undefined }
      : { type: `xstate.error.actor.${child.parentRef}`, error: child.error ?? { message: `child instance ${child.id} ${child.status}` } };
    const id = effect?.id ?? child.id;
    const kind = 'child' as const;
    const close = ok
      ? { id, kind, status: 'done' as const, result: child.output }
      : { id, kind, status: 'failed' as const, error: event.error };
    void this.o.track(this.o.apply(child.parentId, event as EventObject, { source: 'child', closeEffect: close })).catch(this.o.onError);
  }

  /** Adds the timers armed here and the deliveries under way to `into` (the heartbeat renews their leases). */
  held(into: Map<string, object>): void {
    for (const [id, t] of this.timers) into.set(id, t);
    for (const [id, d] of this.delivering) into.set(id, d);
  }

  /**
   * Disarms timers another process took over while this one stalled past their lease (it fires them now).
   * A delivery under way cannot be taken back: its commit, or the other process's, finds the row closed.
   */
  drop(lost: Map<string, object>): string[] {
    const dropped: string[] = [];
    for (const [id, entry] of lost) {
      const t = this.timers.get(id);
      if (t !== entry || !t) continue;
      t.cancel();
      this.timers.delete(id);
      dropped.push(id);
    }
    return dropped;
  }

  /** No more effects start; armed timers are disarmed (their rows stay open for the next process). */
  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) t.cancel();
    this.timers.clear();
  }

  /** Runs `work` for effect `id`, holding its lease meanwhile. */
  private async holding<T>(id: string, work: () => Promise<T>): Promise<T> {
    const entry = {};
    this.delivering.set(id, entry);
    try {
      return await work();
    } finally {
      if (this.delivering.get(id) === entry) this.delivering.delete(id);
    }
  }

  private arm(effect: EffectRecord): void {
    const key = effect.id;
    this.timers.get(key)?.cancel();
    const delay = Math.max(0, (effect.dueAt?.getTime() ?? 0) - this.o.clock.now().getTime());
    const cancel = this.o.clock.schedule(delay, () => {
      if (this.timers.get(key)?.cancel === cancel) this.timers.delete(key);
      void this.o.track(this.holding(key, () => this.fire(effect))).catch(this.o.onError);
    });
    this.timers.set(key, { id: key, instanceId: effect.instanceId, cancel });
  }

  private cancel(loaded: LoadedInstance, key: CancelKey): void {
    const id = loaded.record.id;
    switch (key.kind) {
      case 'timer':
      case 'timerRow':
        // Disarmed by row id above: of the open timers with a send id, only the one holding it was cancelled.
        return;
      case 'actor':
        this.o.steps.cancel(id, key.invokeId);
        break;
      case 'all':
        this.disarm((t) => t.instanceId === id);
        this.o.steps.cancel(id);
        break;
    }
    // A cancelled child effect means the invoking state was left (or the instance stopped): cancel the child instance too.
    // Only machines that invoke child machines can have one (saves a query per finished step).
    if (invokesMachines(loaded)) {
      const [name, reason] = key.kind === 'actor' ? [key.invokeId, 'parent left the invoking state'] : [undefined, 'parent stopped'];
      void this.o.track(this.cancelChildren(id, name, reason)).catch(this.o.onError);
    }
  }

  private disarm(match: (timer: { id: string; instanceId: string }) => boolean): void {
    for (const [k, t] of this.timers) {
      if (!match(t)) continue;
      t.cancel();
      this.timers.delete(k);
    }
  }

  /**
   * Cancels the active child instances of the cancelled child effects (of
   * invoke id `name`, or all) as `runtime.cancel` would: a child whose state
   * accepts its cancel event (`workflow.cancel`) gets it and compensates what
   * it did (a saga); one whose machine has the event but not in this state
   * (compensating already, past its point of no return) is left to finish;
   * any other is stopped, and its own children with it.
   */
  private async cancelChildren(instanceId: string, name: string | undefined, reason: string): Promise<void> {
    for (const e of await this.o.store.effects(instanceId)) {
      if (e.kind !== 'child' || e.status !== 'cancelled' || (name !== undefined && e.name !== name)) continue;
      const child = await this.o.store.get(e.id);
      if (child?.status !== 'active') continue;
      const loaded = await this.o.instances.load(child.id);
      const cancel = loaded.reg.operatorEvents.cancel;
      if (loaded.snapshot.can({ type: cancel, reason })) {
        // The child may finish in between: then there is nothing left to cancel.
        await this.o.apply(child.id, { type: cancel, reason } as EventObject, { source: 'operator' }).catch((e: unknown) => {
          if ((e as { code?: string }).code !== 'instance_not_active') throw e;
        });
      } else if (!declaresEvent(loaded.reg.machine.root, cancel)) {
        await this.o.apply(child.id, stopEvent(reason), { source: 'operator', stop: true });
      }
    }
  }

  /**
   * A due timer: delivered in a span of the instance's trace (stored context
   * as parent, so a timer a week later continues the same trace), with its lag
   * from the due time measured for the metrics.
   */
  private async fire(effect: EffectRecord): Promise<unknown> {
    const lagMs = this.o.clock.now().getTime() - (effect.dueAt?.getTime() ?? 0);
    const loaded = await this.o.load(effect.instanceId);
    const attrs = { [ATTR.instanceId]: effect.instanceId, [ATTR.timerName]: effect.name, [ATTR.timerLagMs]: Math.max(0, lagMs) };
    return inSpan(SPAN.timer, storedContext(loaded.record.traceContext), attrs, async () => {
      this.o.observer.timerFired({ instanceId: effect.instanceId, name: effect.name, lagMs });
      return this.deliver(effect, 'timer');
    });
  }

  /** Delivers an event effect (send or timer) to its target instance; the target's commit closes the row. */
  private async deliver(effect: EffectRecord, source: 'timer' | 'system'): Promise<unknown> {
    const target = decodeTarget(effect.target);
    // Self and parent are applied synchronously (no await on their branch), so a child's sendParent is
    // queued in the parent's mailbox before the child's done event.
    const instanceId =
      target?.kind === 'self'
        ? effect.instanceId
        : target?.kind === 'parent'
          ? target.instanceId
          : target?.kind === 'child'
            ? await this.openChild(effect.instanceId, target.invokeId)
            : undefined;
    if (!instanceId) {
      const error = { message: `target ${effect.target} of ${effect.kind} ${effect.name} not found` };
      return this.o.store.closeEffect(effect.id, 'failed', error, this.o.clock.now());
    }
    const closeEffect = { id: effect.id, kind: effect.kind, status: 'done' as const };
    const src = source === 'timer' ? 'timer' : 'child';
    return this.o.apply(instanceId, effect.event as EventObject, { source: src, closeEffect, heldWhilePaused: true });
  }

  private async openChild(instanceId: string, invokeId: string): Promise<string | undefined> {
    const open = (await this.o.store.effects(instanceId)).filter(
      (e) => e.kind === 'child' && e.name === invokeId && e.status === 'pending',
    );
    return open.at(-1)?.id;
  }

  private async startChild(effect: EffectRecord): Promise<void> {
    const parent = await this.o.load(effect.instanceId);
    await this.o.createChild({ parent, effect });
  }
}

function invokesMachines(loaded: LoadedInstance): boolean {
  return Object.values(loaded.reg.machine.implementations.actors ?? {}).some(isMachine);
}

function ownerOf(loaded: LoadedInstance): StepOwner {
  return {
    tenant: loaded.record.tenant,
    machineId: loaded.reg.id,
    machine: loaded.reg.machine,
    traceContext: loaded.record.traceContext,
    // The state that invoked the step undoes earlier work: its attempts are compensations.
    compensation: loaded.snapshot.hasTag(ROLLING_BACK_TAG),
  };
}
