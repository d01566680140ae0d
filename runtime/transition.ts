/**
 * The decide step of the engine loop, pure: an event and a loaded instance in,
 * the next snapshot, the instance update and the effect plan out. Nothing here
 * reads the store or runs anything; `engine.ts` commits what it returns.
 */
import type { AnyMachineSnapshot, EventObject } from 'xstate';
import { correlationWrite, type CorrelationWrite } from './correlation.ts';
import { EventNotAllowedError, serializeError } from './errors.ts';
import { noEffects, planEffects, type EffectPlan, type PlanContext } from './effect-plan.ts';
import type { LoadedInstance } from './instance-cache.ts';
import { publicId } from './instance-ids.ts';
import { errorSnapshot, eventStep, persist } from './machine-snapshot.ts';
import type { CommitRequest, EffectClose, EventSource, InstanceRecord, InstanceUpdate } from './ports.ts';
import type { RegisteredMachine } from './registry.ts';
import { storedForm } from './stored-values.ts';
import { diffTasks, taskNodes, type TaskChanges } from './tasks.ts';
import type { Caller, InstanceChange, SendResult } from './types.ts';

/** Type of the history row a stop writes (the runtime's own event: machines never see it). */
export const STOP_EVENT = 'statekeeper.stop';

/** Type of the history row written when an instance is ended for committing too many transitions too fast. */
export const RATE_LIMIT_EVENT = 'statekeeper.rate_limited';

/** Types of the history rows of a pause and a resume (the runtime's own events: machines never see them). */
export const PAUSE_EVENT = 'statekeeper.pause';
export const RESUME_EVENT = 'statekeeper.resume';

/** Type of the history row an instance gets when an operator restarts it (`restartedAs` names the new instance). */
export const RESTARTED_EVENT = 'statekeeper.restarted';

/** Types of the history rows of a fork: the fork's own first row, and the note on the original (`forkedAs`). */
export const FORK_EVENT = 'statekeeper.fork';
export const FORKED_EVENT = 'statekeeper.forked';

/** The event a stop records in history, with its reason. */
export function stopEvent(reason: string): EventObject {
  return { type: STOP_EVENT, reason } as EventObject;
}

/** Options of one event application. */
export interface ApplyOptions {
  readonly source: EventSource;
  readonly caller?: Caller;
  readonly tenant?: string;
  readonly idempotencyKey?: string;
  /** The effect whose result this event is: committed only while it is open, closed in the same transaction. */
  readonly closeEffect?: EffectClose;
  /**
   * Stop the instance instead of handing the event to its machine: status
   * `stopped`, every open effect cancelled in the same commit.
   */
  readonly stop?: boolean;
  /** Pause or resume the instance instead of handing the event to its machine: only the `paused` flag changes. */
  readonly lifecycle?: 'pause' | 'resume';
  /**
   * A delivered event (a due timer, another instance's send): held while the instance is paused, its effect
   * row left open to be delivered after the resume.
   */
  readonly heldWhilePaused?: boolean;
  /**
   * Record the event in history and change nothing else, whatever the instance's status (an operator's
   * restart noted on the original).
   */
  readonly note?: boolean;
}

/** Feeds an event into the engine loop (an API event, a step result, a due timer, a delivery); resolves after its commit. */
export type ApplyFn = (instanceId: string, event: EventObject, opts: ApplyOptions) => Promise<SendResult>;

/** What one event does to an instance, before it is committed. */
export interface Decision {
  readonly next: AnyMachineSnapshot;
  /** False when the current state has no transition for the event. */
  readonly handled: boolean;
  readonly update: InstanceUpdate;
  readonly plan: EffectPlan;
  /** Task rows the commit opens and closes. */
  readonly tasks: TaskChanges;
  /** The instance's correlation index rows after the commit (`undefined`: unchanged). */
  readonly correlation?: CorrelationWrite;
}

/**
 * Decides one event: the machine's pure transition and the effects its actions
 * plan, or, for a stop, the same snapshot with status `stopped` and every open
 * effect cancelled (aborting its steps, stopping its children and disarming its
 * timers are then ordinary effects of that commit).
 */
export function decide(
  loaded: LoadedInstance,
  event: EventObject,
  opts: Pick<ApplyOptions, 'stop' | 'caller' | 'lifecycle' | 'note'>,
  planning: PlanContext,
  minDelayMs = 0,
): Decision {
  const { reg, record, snapshot } = loaded;
  const actor = opts.caller?.id ?? null;
  if (opts.stop) return halt(loaded, 'stopped', null, actor);
  // A history note or a pause/resume: the machine does not see the event, the snapshot stays, nothing is planned.
  const recordOnly = (update: Decision['update']): Decision => ({
    next: snapshot,
    handled: true,
    update,
    plan: noEffects(),
    tasks: { open: [], close: [], actor },
  });
  if (opts.note) {
    const { snapshot: stored, status, stateValue, tags, output, error } = record;
    return recordOnly({ snapshot: stored, status, stateValue, tags, output, error });
  }
  if (opts.lifecycle) return recordOnly({ ...updateOf(reg, snapshot), paused: opts.lifecycle === 'pause' });
  const stepped = eventStep(reg.machine, snapshot, event, record.parentId !== null, minDelayMs);
  const handled = stepped[2];
  const [next, actions, correlation] = handled ? withCorrelation(reg, snapshot, stepped[0], stepped[1]) : [stepped[0], stepped[1]];
  const plan = planEffects(actions, planning);
  const tasks = diffTasks(snapshot, next, {
    instanceId: record.id,
    tenant: record.tenant,
    machineId: record.machineId,
    generation: planning.generation,
    now: planning.now,
    eventType: event.type,
    actor,
    newEffects: plan.newEffects,
  });
  return { next, handled, update: updateOf(reg, next), plan, tasks, correlation };
}

/**
 * The transition's correlation index write; a value that cannot be indexed makes the transition fail as a
 * throwing action would: the state before it (`before`, or none for a new instance) with status `error`.
 */
export function withCorrelation<A>(
  reg: RegisteredMachine,
  before: AnyMachineSnapshot | undefined,
  next: AnyMachineSnapshot,
  actions: A[],
): [AnyMachineSnapshot, A[], CorrelationWrite] {
  try {
    return [next, actions, correlationWrite(reg.ref, reg.correlation, before, next)];
  } catch (e) {
    const failed = errorSnapshot(before, e);
    return [failed, [], correlationWrite(reg.ref, reg.correlation, before, failed)];
  }
}

/**
 * Ends an instance from outside its machine (a stop, a breached rate limit):
 * the same snapshot with the given status and error, every open effect
 * cancelled in the same commit.
 */
export function halt(loaded: LoadedInstance, status: 'stopped' | 'error', error: unknown, actor: string | null): Decision {
  const { reg, snapshot } = loaded;
  // Its open tasks are closed with it.
  const close = [...taskNodes(snapshot).keys()].map((state) => ({ state, status: 'cancelled' as const }));
  return {
    next: snapshot,
    handled: true,
    update: { ...updateOf(reg, snapshot), status, error, paused: false },
    plan: { ...noEffects(), cancel: [{ kind: 'all' }] },
    tasks: { open: [], close, actor },
    // An ended instance is found by no business key.
    correlation: reg.correlation ? null : undefined,
  };
}

/** The instance fields a snapshot stands for. */
export function updateOf(reg: RegisteredMachine, snapshot: AnyMachineSnapshot): InstanceUpdate {
  return {
    snapshot: persist(reg.machine, snapshot),
    status: snapshot.status as InstanceRecord['status'],
    stateValue: snapshot.value as unknown,
    tags: [...snapshot.tags].sort(),
    output: snapshot.status === 'done' ? (snapshot.output ?? null) : null,
    error: snapshot.status === 'error' ? serializeError(snapshot.error) : null,
  };
}

/** The history row of an event. */
export function eventRow(event: EventObject, opts: ApplyOptions, handled: boolean): CommitRequest['event'] {
  const { type, ...rest } = event as EventObject & Record<string, unknown>;
  // Dates and Errors (a step's rejection) are kept in their tagged form, as in a stored context.
  const payload = Object.keys(rest).length ? storedForm(rest) : null;
  return { type, payload, source: opts.source, actor: opts.caller?.id ?? null, handled, idempotencyKey: opts.idempotencyKey ?? null };
}

/** The answer to the sender of an event. */
export function resultOf(loaded: LoadedInstance, handled: boolean, duplicate: boolean): SendResult {
  const r = loaded.record;
  return {
    instanceId: publicId(r.tenant, r.id),
    handled,
    duplicate,
    value: r.stateValue,
    status: r.status,
    tags: r.tags,
    version: r.version,
  };
}

/** The change-feed message of a commit. */
export function changeOf(loaded: LoadedInstance, eventType: string): InstanceChange {
  const r = loaded.record;
  return {
    instanceId: publicId(r.tenant, r.id),
    tenant: r.tenant,
    version: r.version,
    value: r.stateValue,
    status: r.status,
    tags: r.tags,
    eventType,
  };
}

/** Refuses an event the caller's roles do not allow in the current state (`meta.roles` of the active nodes). */
export function checkRoles(loaded: LoadedInstance, event: EventObject, roles: readonly string[]): void {
  const required = requiredRoles(loaded.snapshot, event.type);
  if (required && !required.some((r) => roles.includes(r))) throw new EventNotAllowedError(loaded.record.id, event.type, required);
}

/** Roles required for `eventType` by the active state nodes' `meta.roles`, if any declare it. */
export function requiredRoles(snapshot: AnyMachineSnapshot, eventType: string): string[] | undefined {
  let required: string[] | undefined;
  for (const meta of Object.values(snapshot.getMeta() as Record<string, { roles?: Record<string, string[]> } | undefined>)) {
    const r = meta?.roles?.[eventType] ?? meta?.roles?.['*'];
    if (r) required = [...(required ?? []), ...r];
  }
  return required;
}
