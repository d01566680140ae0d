import type { EventObject } from 'xstate';
import type { EffectPlan } from './effect-plan.ts';
import type { InstanceHost, LoadedInstance } from './instance-host.ts';
import type { Clock, EffectRecord, InstanceRecord, InstanceStore, NewEffect } from './ports.ts';
import { isMachine, type Registry } from './registry.ts';
import type { StepOwner, StepRunner } from './step-runner.ts';
import type { InstanceChange } from './types.ts';

// Year 9999: later than any timer, and still a timestamp PostgreSQL accepts.
const MAX_DATE_MS = Date.UTC(9999, 11, 31);

/** Instances without an event for this long leave memory. */
const IDLE_EVICT_MS = 5 * 60_000;

export interface DispatcherOptions {
  store: InstanceStore;
  registry: Registry;
  clock: Clock;
  owner: string;
  host: InstanceHost;
  steps: StepRunner;
  /** How often due work is claimed from the store (0 disables polling). */
  pollIntervalMs: number;
  timerHorizonMs: number;
  track: <T>(p: Promise<T>) => Promise<T>;
  onError: (e: unknown) => void;
  notify: (change: InstanceChange) => void;
  stopInstance: (id: string, reason: string) => Promise<unknown>;
}

/**
 * Carries out committed effects: starts steps, arms timers, delivers events
 * to other instances, starts child instances, reports a finished child to its
 * parent; and claims due or orphaned effects from the store (start-up
 * recovery and the periodic poll).
 */
export class EffectDispatcher {
  private readonly timers = new Map<string, () => void>();
  private stopPoll?: () => void;
  private stopped = false;

  constructor(private readonly o: DispatcherOptions) {}

  /** Called by the host after each commit. */
  afterCommit = (loaded: LoadedInstance, plan: EffectPlan, change: InstanceChange): void => {
    const rec = loaded.record;
    for (const cancel of plan.cancel) this.cancel(loaded, cancel);
    const owner = ownerOf(loaded);
    const now = this.o.clock.now();
    for (const e of plan.newEffects) this.run(asRecord(e, rec.id, now), owner);
    if (rec.status !== 'active' && rec.parentId) this.reportToParent(rec);
    this.o.notify(change);
  };

  /** Runs one open effect held (leased) by this process. */
  run(effect: EffectRecord, owner?: StepOwner): void {
    if (this.stopped) return;
    switch (effect.kind) {
      case 'step':
        if (owner) this.o.steps.start(effect, owner);
        else void this.o.track(this.withOwner(effect.instanceId, (o) => this.o.steps.start(effect, o))).catch(this.o.onError);
        break;
      case 'timer':
        if (effect.leaseOwner === this.o.owner) this.arm(effect);
        break;
      case 'send':
        void this.o.track(this.deliver(effect, effect.event as EventObject, 'system')).catch(this.o.onError);
        break;
      case 'child':
        void this.o.track(this.startChild(effect)).catch(this.o.onError);
        break;
    }
  }

  /** Start-up recovery and the poll loop: claims due/orphaned effects and undelivered child results. */
  async start(): Promise<void> {
    // A predecessor with our owner id is dead (we are it, restarted): its leases are ours to take back.
    await this.o.store.releaseLeases(this.o.owner);
    await this.poll();
  }

  async poll(): Promise<void> {
    if (this.stopped) return;
    try {
      const now = this.o.clock.now();
      // An infinite horizon (simulation) means "every timer": clamp to the latest representable date.
      const until = (ms: number) => new Date(Math.min(now.getTime() + ms, MAX_DATE_MS));
      const claimed = await this.o.store.claimDue(this.o.owner, now, until(this.o.timerHorizonMs), until(this.o.timerHorizonMs + 30_000), 200);
      for (const effect of claimed) this.run(effect);
      for (const { effect, child } of await this.o.store.finishedChildren(200)) this.reportToParent(child, effect);
      // Memory follows activity: an instance idle for a while is reloaded from Postgres when next needed.
      this.o.host.evictOlderThan(IDLE_EVICT_MS);
    } catch (e) {
      this.o.onError(e);
    } finally {
      if (!this.stopped && this.o.pollIntervalMs > 0) this.stopPoll = this.o.clock.schedule(this.o.pollIntervalMs, () => void this.poll());
    }
  }

  stop(): void {
    this.stopped = true;
    this.stopPoll?.();
    for (const cancel of this.timers.values()) cancel();
    this.timers.clear();
  }

  private arm(effect: EffectRecord): void {
    const key = timerKey(effect.instanceId, effect.name);
    this.timers.get(key)?.();
    const delay = Math.max(0, (effect.dueAt?.getTime() ?? 0) - this.o.clock.now().getTime());
    const cancel = this.o.clock.schedule(delay, () => {
      if (this.timers.get(key) === cancel) this.timers.delete(key);
      const target = effect.target ?? `self:${effect.instanceId}`;
      void this.o.track(this.deliver({ ...effect, target }, effect.event as EventObject, 'timer')).catch(this.o.onError);
    });
    this.timers.set(key, cancel);
  }

  private cancel(loaded: LoadedInstance, what: string): void {
    const rec = loaded.record;
    const [kind, name] = [what.slice(0, what.indexOf(':')), what.slice(what.indexOf(':') + 1)];
    if (kind === 'timer') {
      this.timers.get(timerKey(rec.id, name))?.();
      this.timers.delete(timerKey(rec.id, name));
      return;
    }
    this.o.steps.cancel(rec.id, name);
    // A cancelled child effect means the invoking state was left: stop the child instance too.
    // Only machines that invoke child machines can have one (saves a query per finished step).
    if (invokesMachines(loaded)) void this.o.track(this.stopCancelledChildren(rec.id, name)).catch(this.o.onError);
  }

  private async stopCancelledChildren(instanceId: string, name: string): Promise<void> {
    const effects = await this.o.store.effects(instanceId);
    for (const e of effects) {
      if (e.kind !== 'child' || e.name !== name || e.status !== 'cancelled') continue;
      const child = await this.o.store.get(e.id);
      if (child?.status === 'active') await this.o.stopInstance(child.id, 'parent left the invoking state');
    }
  }

  /** Delivers an event effect (send or timer) to its target instance; the target's commit closes the row. */
  private deliver(effect: EffectRecord, event: EventObject, source: 'timer' | 'system'): Promise<unknown> {
    const apply = (target: string | undefined): Promise<unknown> =>
      target
        ? this.o.host.apply(target, event, { source: source === 'timer' ? 'timer' : 'child', closeEffect: { id: effect.id, status: 'done' } })
        : this.o.store.closeEffect(effect.id, 'failed', { message: `target ${effect.target} of ${effect.kind} ${effect.name} not found` }, this.o.clock.now());
    const t = effect.target;
    // Enqueue at once when the target is known, so a child's sendParent reaches the parent before its done event.
    if (!t || t.startsWith('self:')) return apply(effect.instanceId);
    if (t.startsWith('parent:')) return apply(t.slice('parent:'.length));
    if (t.startsWith('child:')) return this.openChild(effect.instanceId, t.slice('child:'.length)).then(apply);
    return apply(undefined);
  }

  private async openChild(instanceId: string, name: string): Promise<string | undefined> {
    const open = (await this.o.store.effects(instanceId)).filter((e) => e.kind === 'child' && e.name === name && e.status === 'pending');
    return open.at(-1)?.id;
  }

  private async startChild(effect: EffectRecord): Promise<void> {
    const parent = await this.o.host.load(effect.instanceId);
    const reg = this.o.registry.resolve(effect.target ?? '');
    await this.o.host.create({
      reg,
      id: effect.id,
      tenant: parent.record.tenant,
      input: effect.input ?? undefined,
      idempotencyKey: null,
      inputHash: null,
      parentId: parent.record.id,
      parentRef: effect.name,
      startedBy: effect.id,
    });
  }

  /** Sends `xstate.done.actor.<ref>` / `xstate.error.actor.<ref>` to the parent, closing its child effect. */
  private reportToParent(child: InstanceRecord, effect?: EffectRecord): void {
    if (!child.parentId || !child.parentRef) return;
    const ok = child.status === 'done';
    const event = ok
      ? { type: `xstate.done.actor.${child.parentRef}`, output: child.output ?? undefined }
      : { type: `xstate.error.actor.${child.parentRef}`, error: child.error ?? { message: `child instance ${child.id} ${child.status}` } };
    const close = ok ? { id: effect?.id ?? child.id, status: 'done' as const, result: child.output } : { id: effect?.id ?? child.id, status: 'failed' as const, error: event.error };
    void this.o.track(this.o.host.apply(child.parentId, event as EventObject, { source: 'child', closeEffect: close })).catch(this.o.onError);
  }

  private async withOwner(instanceId: string, fn: (o: StepOwner) => void): Promise<void> {
    const loaded = await this.o.host.load(instanceId);
    fn(ownerOf(loaded));
  }
}

function invokesMachines(loaded: LoadedInstance): boolean {
  return Object.values(loaded.reg.machine.implementations.actors ?? {}).some(isMachine);
}

function ownerOf(loaded: LoadedInstance): StepOwner {
  return { tenant: loaded.record.tenant, machine: loaded.reg.machine, traceContext: loaded.record.traceContext };
}

function timerKey(instanceId: string, sendId: string): string {
  return `${instanceId}\u0000${sendId}`;
}

function asRecord(e: NewEffect, instanceId: string, now: Date): EffectRecord {
  return { ...e, instanceId, status: 'pending', result: null, error: null, lastError: null, createdAt: now, updatedAt: now, closedAt: null };
}
