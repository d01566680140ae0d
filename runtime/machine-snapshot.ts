import { randomUUID } from 'node:crypto';
import { createActor, createMachine, type AnyActorRef, type AnyMachineSnapshot, type AnyStateMachine, type EventObject } from 'xstate';
import { IncompatibleSnapshotError, RuntimeError } from './errors.ts';
import { unstorable } from './storable.ts';
import { decodeStored, encodeStored, unserializable } from './stored-values.ts';

/** A machine's action as the pure transition returns it (see xstate `ExecutableActionObject`). */
export interface ActionObject {
  type: string;
  params?: Record<string, any>;
}

/**
 * Stand-in for the parent actor of a child instance. `sendParent(...)` in a
 * child resolves to it, and the runtime turns such sends into durable `send`
 * effects to the parent instance.
 */
export const PARENT_REF = Object.freeze({
  id: 'statekeeper.parent',
  sessionId: 'statekeeper.parent',
  send() {},
  _send() {},
  get system() {
    return parentSystem();
  },
}) as unknown as AnyActorRef;

let cachedSystem: unknown;
function parentSystem() {
  // Any logic will do: only its actor system is borrowed as the stand-in parent's.
  cachedSystem ??= createActor(createMachine({})).system;
  return cachedSystem;
}

/** Microsteps one event may take before the transition is declared a loop. */
export const MAX_MICROSTEPS = 1_000;
/**
 * Wall time one transition may take (guards and actions are user code). Generous: it is checked
 * between microsteps, and a busy machine must not end a healthy instance; the microstep bound
 * catches loops long before it.
 */
export const MAX_TRANSITION_MS = 10_000;
/** Longest delay a timer may have (about 100 years): later ones cannot be stored as a due time. */
export const MAX_DELAY_MS = 3_155_760_000_000;

const selves = new WeakMap<AnyStateMachine, { plain?: AnyActorRef; child?: AnyActorRef }>();
const selfRefs = new WeakSet<object>();

/**
 * The machine's own actor reference in the inert scope, made once per machine.
 * @remarks Made from a stub snapshot, so the context factory (which may count or
 * draw ids) runs only when an instance starts, never once per event.
 */
function selfOf(machine: AnyStateMachine, withParent: boolean): AnyActorRef {
  const entry = selves.get(machine) ?? {};
  selves.set(machine, entry);
  const key = withParent ? 'child' : 'plain';
  let self = entry[key];
  if (!self) {
    const snapshot = { status: 'active', value: restingValue(machine.root), context: {}, children: {}, historyValue: {} };
    self = createActor(machine, { snapshot, ...(withParent ? { parent: PARENT_REF } : {}) } as never);
    selfRefs.add(self);
    entry[key] = self;
  }
  return self;
}

/** True for the reference `({ self }) => self` resolves to while deciding (a send to the instance itself). */
export function isSelfRef(ref: unknown): boolean {
  return typeof ref === 'object' && ref !== null && selfRefs.has(ref);
}

/** Some valid state value of a node (any one will do for a stub snapshot). */
function restingValue(node: { type: string; initial?: { target: readonly { key: string }[] }; states: Record<string, any> }): any {
  const children = Object.values(node.states);
  if (children.length === 0) return {};
  if (node.type === 'parallel') return Object.fromEntries(children.map((c: any) => [c.key, leafOrNested(c)]));
  const first: any = node.initial?.target?.[0] ?? children[0];
  const sub = leafOrNested(first);
  return sub === undefined ? first.key : { [first.key]: sub };
}

function leafOrNested(node: any): any {
  return Object.keys(node.states).length === 0 ? undefined : restingValue(node);
}

/** Collects what one transition decides, and stops it when it loops, runs too long or schedules a bad delay. */
class Decision {
  readonly actions: ActionObject[] = [];
  private microsteps = 0;
  private readonly started = performance.now();

  constructor(
    readonly machine: AnyStateMachine,
    readonly eventType: string,
    /** Delays below this end the transition in error (0: no minimum, as when replaying stored history). */
    readonly minDelayMs = 0,
  ) {}

  scope(withParent: boolean) {
    const self = selfOf(this.machine, withParent);
    // Every microstep is reported to the system's inspection hook: the one place to bound the loop.
    const system = Object.create(self.system, { _sendInspectionEvent: { value: (e: { type: string }) => this.inspect(e) } });
    return {
      self,
      defer: () => {},
      id: '',
      logger: () => {},
      sessionId: '',
      stopChild: () => {},
      system,
      emit: () => {},
      actionExecutor: (action: ActionObject) => this.collect(action),
    };
  }

  private inspect(e: { type: string }): void {
    if (e.type !== '@xstate.microstep') return;
    this.microsteps++;
    if (this.microsteps > MAX_MICROSTEPS) {
      throw this.failure(
        `took more than ${MAX_MICROSTEPS} microsteps without coming to rest (a cycle of always transitions or raised events)`,
      );
    }
    if (performance.now() - this.started > MAX_TRANSITION_MS) throw this.failure(`ran longer than ${MAX_TRANSITION_MS} ms`);
  }

  private collect(action: ActionObject): void {
    const p = action.params;
    if ((action.type === 'xstate.raise' || action.type === 'xstate.sendTo') && p && p.delay !== undefined) this.checkDelay(p);
    if (action.type === 'xstate.sendTo' && p && isSelfRef(p.to)) {
      // An event sent to the actor itself is processed after the current macrostep, as an external
      // event: exactly what a timer row due now (or after the delay) delivers, cancellable by its id.
      this.keep({ type: 'xstate.raise', params: { event: p.event, id: p.id, delay: p.delay ?? 0 } });
      return;
    }
    this.keep(action);
  }

  /**
   * A delay must be a storable number of milliseconds, and not below the
   * runtime's minimum: a short timer on a state that re-enters itself (a delay
   * computed from input, `reminderAfterMs: 1`) would write history rows as fast
   * as the database takes them. The instance ends in error instead, naming the delay.
   */
  private checkDelay(p: Record<string, any>): void {
    const d = p.delay;
    const what = typeof p.event?.type === 'string' ? `event "${p.event.type}"` : 'an event';
    if (typeof d !== 'number' || !Number.isFinite(d) || d > MAX_DELAY_MS) {
      const shown = typeof d === 'number' ? String(d) : (JSON.stringify(d) ?? String(d));
      throw this.failure(
        `scheduled ${what} with a delay of ${shown}; a delay must be a finite number of milliseconds up to ${MAX_DELAY_MS}`,
      );
    }
    if (d < this.minDelayMs) {
      throw this.failure(
        `scheduled ${what} with a delay of ${d} ms, below the runtime's minimum of ${this.minDelayMs} ms ` +
          '(runtime option minDelayMs, STATEKEEPER_MIN_DELAY_MS)',
        'delay_too_short',
      );
    }
  }

  private keep(action: ActionObject): void {
    const p = action.params;
    if ((action.type === 'xstate.raise' || action.type === 'xstate.sendTo') && p && p.delay !== undefined && p.id === undefined) {
      // Without an id nothing can cancel it, and each one fires: give it a name no other timer has.
      this.actions.push({ ...action, params: { ...p, id: `anonymous.${randomUUID()}` } });
      return;
    }
    this.actions.push(action);
  }

  failure(problem: string, code: 'transition_failed' | 'delay_too_short' = 'transition_failed'): RuntimeError {
    return new RuntimeError(code, `Machine ${this.machine.id}: the transition for event "${this.eventType}" ${problem}.`, {
      machine: this.machine.id,
      eventType: this.eventType,
    });
  }
}

/**
 * The snapshot XState's own actor takes when a transition throws: the state
 * before the event, with status `error` and the error (see xstate `Actor._process`).
 */
export function errorSnapshot(before: AnyMachineSnapshot | undefined, error: unknown): AnyMachineSnapshot {
  if (before) return { ...before, status: 'error', error } as AnyMachineSnapshot;
  // No state yet (the initial transition threw): as xstate's `_initState`, no value and no context.
  return {
    status: 'error',
    error,
    output: undefined,
    value: null,
    context: null,
    tags: new Set(),
    children: {},
  } as unknown as AnyMachineSnapshot;
}

/** Checks what the transition stores and spawns: a problem becomes the transition's error. */
function checkOutcome(d: Decision, before: AnyMachineSnapshot | undefined, next: AnyMachineSnapshot): void {
  const spawned = new Set(d.actions.filter((a) => a.type === 'xstate.spawnChild').map((a) => a.params?.id));
  for (const id of Object.keys(next.children ?? {})) {
    if (before?.children?.[id] === next.children[id] || spawned.has(id)) continue;
    throw d.failure(
      `spawned actor "${id}" with spawn() inside assign(), which the runtime cannot persist; use the spawnChild(...) action instead`,
    );
  }
  encodeStored(next.context, 'context');
  if (next.status === 'done' && next.output !== undefined) encodeStored(next.output, 'output');
  for (const a of d.actions) {
    if (a.type === 'xstate.emit' || a.type === 'xstate.sendTo' || (a.type === 'xstate.raise' && a.params?.delay !== undefined)) {
      checkStored(a.params?.event, `${a.type.slice('xstate.'.length)} event`);
    } else if (a.type === 'xstate.spawnChild') {
      checkStored(a.params?.input, `input of actor "${a.params?.id}"`);
    }
  }
}

/** A value stored as plain JSON (event payloads, inputs): no codec, so a Date here would come back as a string. */
function checkStored(value: unknown, path: string): void {
  if (value === undefined) return;
  const bad = unstorable(value, path);
  if (bad) throw unserializable(bad.path, bad.reason);
}

/** `[nextSnapshot, actions]` for the initial state, executing nothing; a throwing start gives an `error` snapshot. */
export function initialStep(
  machine: AnyStateMachine,
  input: unknown,
  withParent: boolean,
  minDelayMs = 0,
): [AnyMachineSnapshot, ActionObject[]] {
  const d = new Decision(machine, 'xstate.init', minDelayMs);
  try {
    const snapshot = machine.getInitialSnapshot(d.scope(withParent) as never, input) as AnyMachineSnapshot;
    if (snapshot.status === 'error') return [snapshot, []];
    checkOutcome(d, undefined, snapshot);
    return [snapshot, d.actions];
  } catch (e) {
    return [errorSnapshot(undefined, e), []];
  }
}

/**
 * `[nextSnapshot, actions, handled]` for one event, executing nothing.
 * @remarks `handled` is false when no transition of the current state
 * matches the event (guards included): the caller reports it, nothing is stored.
 * A transition that throws (a guard, an action, `output`), loops, runs too long
 * or would store a value that does not survive storage gives, as in
 * `createActor`, the state before the event with status `error` and the error,
 * handled: it is committed like any transition, so the instance never retries it.
 */
export function eventStep(
  machine: AnyStateMachine,
  snapshot: AnyMachineSnapshot,
  event: EventObject,
  withParent: boolean,
  minDelayMs = 0,
): [AnyMachineSnapshot, ActionObject[], boolean] {
  const d = new Decision(machine, event.type, minDelayMs);
  try {
    const next = machine.transition(snapshot, event, d.scope(withParent) as never) as AnyMachineSnapshot;
    // A targetless transition without actions returns the same snapshot: still handled.
    const handled = next !== snapshot || machine.getTransitionData(snapshot as never, event).length > 0;
    if (handled) checkOutcome(d, snapshot, next);
    return [next, d.actions, handled];
  } catch (e) {
    return [errorSnapshot(snapshot, e), [], true];
  }
}

/** The JSON form stored in `sk_instance.snapshot` (XState's persisted snapshot; Dates and Errors in context tagged). */
export function persist(machine: AnyStateMachine, snapshot: AnyMachineSnapshot): unknown {
  if (snapshot.status === 'error' && !(snapshot as { _nodes?: unknown })._nodes) {
    return { status: 'error', value: null, context: null, error: serializeStoredError(snapshot.error) };
  }
  const persisted = machine.getPersistedSnapshot(snapshot) as Record<string, unknown>;
  return {
    ...persisted,
    context: encodeStored(persisted.context, 'context'),
    ...(snapshot.status === 'error' ? { error: serializeStoredError(snapshot.error) } : {}),
    ...(persisted.output !== undefined ? { output: tryEncode(persisted.output) } : {}),
  };
}

function tryEncode(v: unknown): unknown {
  try {
    return encodeStored(v, 'output');
  } catch {
    return null;
  }
}

/** An error as stored in a snapshot: its tagged form when it can be, else its message. */
function serializeStoredError(e: unknown): unknown {
  try {
    return encodeStored(e, 'error');
  } catch {
    return { name: (e as Error)?.name ?? 'Error', message: String((e as Error)?.message ?? e) };
  }
}

/**
 * Restores a stored snapshot, refusing one whose states the machine does not have.
 * @throws IncompatibleSnapshotError naming the instance, machine version and missing state.
 */
export function restore(
  machine: AnyStateMachine,
  stored: unknown,
  ctx: { instanceId: string; machineRef: string; withParent: boolean },
): AnyMachineSnapshot {
  const value = (stored as { value?: unknown } | null)?.value;
  const missing = findMissingState(machine, value);
  if (missing !== undefined) throw new IncompatibleSnapshotError(ctx.instanceId, ctx.machineRef, missing);
  const scope = new Decision(machine, 'xstate.restore').scope(ctx.withParent);
  const decoded = { ...(stored as Record<string, unknown>), context: decodeStored((stored as { context?: unknown }).context) };
  try {
    return machine.restoreSnapshot(decoded as never, scope as never) as AnyMachineSnapshot;
  } catch (e) {
    throw new IncompatibleSnapshotError(ctx.instanceId, ctx.machineRef, `(unreadable snapshot: ${(e as Error).message})`);
  }
}

/** Path of the first state in `value` the machine lacks, or undefined when all exist. */
export function findMissingState(machine: AnyStateMachine, value: unknown): string | undefined {
  if (value === undefined || value === null) return '(no state value)';
  const walk = (node: { states: Record<string, any> }, v: unknown, path: string[]): string | undefined => {
    if (typeof v === 'string') return v in node.states ? undefined : [...path, v].join('.');
    if (typeof v !== 'object' || v === null) return [...path, String(v)].join('.');
    for (const [key, sub] of Object.entries(v)) {
      const child = node.states[key];
      if (!child) return [...path, key].join('.');
      const miss = walk(child, sub, [...path, key]);
      if (miss) return miss;
    }
    return undefined;
  };
  return walk(machine.root as never, value, []);
}
