import type { AnyStateMachine } from 'xstate';
import type { ActionObject } from './machine-snapshot.ts';
import { PARENT_REF } from './machine-snapshot.ts';
import { effectId, encodeTarget, type CancelKey, type EventTarget } from './effect-address.ts';
import { StepNotRegisteredError } from './errors.ts';
import type { EffectRecord, NewEffect } from './ports.ts';
import { isMachine } from './registry.ts';

/** What the runtime must record and do for one transition's actions. */
export interface EffectPlan {
  newEffects: NewEffect[];
  /** Open effects this commit cancels (a timer key: the open timer row that holds the send id, if one does). */
  cancel: CancelKey[];
  /**
   * Send ids this commit schedules again before any cancel of them: the open timer row that held the id
   * no longer does (it still fires, but `cancel(id)` no longer reaches it).
   */
  superseded: string[];
  outbox: { type: string; payload: unknown }[];
}

/** Facts the planner needs besides the actions. */
export interface PlanContext {
  readonly instanceId: string;
  readonly parentId: string | null;
  readonly machine: AnyStateMachine;
  /** Version this commit will write: makes every effect id unique and stable. */
  readonly generation: number;
  readonly now: Date;
  readonly owner: string;
  /** Timers due within this many ms are leased to this process and armed in memory. */
  readonly timerHorizonMs: number;
  /**
   * Lease length of the effects this commit opens for this process (steps, deliveries, timers armed here);
   * renewed by the heartbeat while the process works on them (lease-keeper.ts).
   */
  readonly leaseMs: number;
}

/**
 * Turns the actions of a pure transition into effect rows.
 *
 * @remarks This is where "XState decides, the runtime does" is made durable:
 * every effect becomes data with a stable id before anything runs. Actions
 * without a durable meaning here (assign, undelayed raise, log, custom
 * actions) are resolved by XState itself or deliberately not executed:
 * side effects belong in steps.
 */
/** A plan with nothing to do: the commit only records an event and the instance row. */
export function noEffects(): EffectPlan {
  return { newEffects: [], cancel: [], superseded: [], outbox: [] };
}

export function planEffects(actions: readonly ActionObject[], ctx: PlanContext): EffectPlan {
  const plan = noEffects();
  const base = { attempts: 0, leaseOwner: null, leaseUntil: null, input: null, event: null, target: null, keyed: false } as const;
  const lease = { leaseOwner: ctx.owner, leaseUntil: new Date(ctx.now.getTime() + ctx.leaseMs) };
  const ids = new SchedulerIds(plan, ctx);
  actions.forEach((action, index) => {
    const p = action.params ?? {};
    switch (action.type) {
      case 'xstate.spawnChild': {
        const src = typeof p.src === 'string' ? p.src : undefined;
        if (!src) throw StepNotRegisteredError.unnamed(String(p.id), ctx.instanceId);
        const id = effectId.invoke(ctx.instanceId, p.id, ctx.generation);
        const logic = ctx.machine.implementations.actors?.[src];
        if (isMachine(logic)) {
          const input = p.input ?? null;
          plan.newEffects.push({ ...base, ...lease, id, kind: 'child', name: p.id, target: logic.id, input, dueAt: ctx.now });
        } else {
          const input = p.input ?? null;
          // The first call is recorded by this commit: the runner makes it as soon as the commit returns, so
          // it costs no write of its own; a stop before it is made takes it back (releaseAttempt). Later
          // calls, and calls after a claim, are recorded by the runner as they start.
          plan.newEffects.push({ ...base, ...lease, id, kind: 'step', name: p.id, target: src, input, attempts: 1, dueAt: ctx.now });
        }
        break;
      }
      case 'xstate.stopChild':
        if (typeof p.id === 'string') plan.cancel.push({ kind: 'actor', invokeId: p.id });
        break;
      case 'xstate.cancel':
        if (typeof p.sendId === 'string') ids.cancel(p.sendId);
        break;
      case 'xstate.raise':
        if (typeof p.delay === 'number') ids.schedule(p.id ?? `raise.${index}`, p.event, { kind: 'self' }, p.delay);
        break;
      case 'xstate.sendTo': {
        const target = sendTarget(p, ctx);
        if (target === undefined) break;
        if (typeof p.delay === 'number') ids.schedule(p.id ?? `send.${index}`, p.event, target, p.delay);
        else {
          const id = effectId.send(ctx.instanceId, ctx.generation, index);
          const name = p.event?.type ?? 'event';
          plan.newEffects.push({ ...base, ...lease, id, kind: 'send', name, target: encodeTarget(target), event: p.event, dueAt: ctx.now });
        }
        break;
      }
      case 'xstate.emit':
        if (p.event && typeof p.event.type === 'string') plan.outbox.push({ type: p.event.type, payload: p.event });
        break;
      default:
        break;
    }
  });
  return ids.finish();
}

/**
 * XState's scheduler during one commit, by send id (`system.scheduler` keys its entries by the actor's session
 * and the id): scheduling an id holds the new timer under it (an older one with that id keeps running, no longer
 * held); `cancel(id)` cancels the held timer only; a timer firing frees its id (the store does that part, when
 * the commit delivering it closes its row). Actions run in order, so within one commit a cancel after a schedule
 * takes the new timer (it is never written) and a cancel before it takes the row that held the id already.
 */
class SchedulerIds {
  /** Ids this commit has touched: the new timer that holds it, or null when none does (cancelled). */
  private readonly held = new Map<string, NewEffect | null>();
  private readonly dropped = new Set<NewEffect>();
  /** Timers scheduled so far by id (ids of a second timer of one id in one commit are numbered). */
  private readonly count = new Map<string, number>();

  constructor(
    private readonly plan: EffectPlan,
    private readonly ctx: PlanContext,
  ) {}

  schedule(sendId: string, event: unknown, target: EventTarget, delay: number): void {
    const occurrence = this.count.get(sendId) ?? 0;
    this.count.set(sendId, occurrence + 1);
    const row = timer(this.ctx, sendId, occurrence, event, target, delay);
    const previous = this.held.get(sendId);
    if (previous) previous.keyed = false;
    // First touched by this schedule: the open row holding the id (if any) loses it.
    else if (previous === undefined) this.plan.superseded.push(sendId);
    this.held.set(sendId, row);
    this.plan.newEffects.push(row);
  }

  cancel(sendId: string): void {
    const holder = this.held.get(sendId);
    if (holder) this.dropped.add(holder);
    // First touched by this cancel: the open row holding the id is cancelled.
    else if (holder === undefined) this.plan.cancel.push({ kind: 'timer', sendId });
    this.held.set(sendId, null);
  }

  finish(): EffectPlan {
    if (this.dropped.size) this.plan.newEffects = this.plan.newEffects.filter((e) => !this.dropped.has(e));
    return this.plan;
  }
}

/**
 * Where a `sendTo` goes: the parent for `sendParent`, else an invoked child
 * instance (resolved to its instance id on delivery); nowhere without a parent or an id.
 */
function sendTarget(p: Record<string, any>, ctx: PlanContext): EventTarget | undefined {
  if (p.to === PARENT_REF) return ctx.parentId ? { kind: 'parent', instanceId: ctx.parentId } : undefined;
  const id = typeof p.targetId === 'string' ? p.targetId : typeof p.to?.id === 'string' ? p.to.id : undefined;
  if (!id) return undefined;
  return { kind: 'child', invokeId: id };
}

function timer(ctx: PlanContext, sendId: string, occurrence: number, event: unknown, target: EventTarget, delay: number): NewEffect {
  const dueAt = new Date(ctx.now.getTime() + Math.max(0, delay));
  return {
    id: effectId.timer(ctx.instanceId, sendId, ctx.generation, occurrence),
    kind: 'timer',
    name: sendId,
    target: encodeTarget(target),
    input: null,
    event,
    attempts: 0,
    dueAt,
    keyed: true,
    // A timer due soon is armed in this process, whose heartbeat renews its lease until it fires (after a
    // crash another process claims and arms it). A later one is left unleased for the poller to claim when near.
    ...(delay <= ctx.timerHorizonMs
      ? { leaseOwner: ctx.owner, leaseUntil: new Date(ctx.now.getTime() + ctx.leaseMs) }
      : { leaseOwner: null, leaseUntil: null }),
  };
}

/** The open row a planned effect becomes when its commit succeeds (as the stores write it). */
export function openEffect(e: NewEffect, instanceId: string, now: Date): EffectRecord {
  return {
    ...e,
    instanceId,
    status: 'pending',
    result: null,
    error: null,
    lastError: null,
    createdAt: now,
    updatedAt: now,
    closedAt: null,
  };
}
