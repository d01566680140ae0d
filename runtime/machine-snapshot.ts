import { createActor, createMachine, type AnyActorRef, type AnyMachineSnapshot, type AnyStateMachine, type EventObject } from 'xstate';
import { IncompatibleSnapshotError } from './errors.ts';

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

/**
 * An actor scope that executes nothing and collects actions, like xstate's own
 * `transition()`, but able to give the machine a parent (for `sendParent`).
 */
function inertScope(machine: AnyStateMachine, withParent: boolean, sink: ActionObject[]) {
  const self = withParent ? createActor(machine, { parent: PARENT_REF } as never) : createActor(machine);
  return {
    self,
    defer: () => {},
    id: '',
    logger: () => {},
    sessionId: '',
    stopChild: () => {},
    system: self.system,
    emit: () => {},
    actionExecutor: (action: ActionObject) => void sink.push(action),
  };
}

/** `[nextSnapshot, actions]` for the initial state, executing nothing. */
export function initialStep(machine: AnyStateMachine, input: unknown, withParent: boolean): [AnyMachineSnapshot, ActionObject[]] {
  const actions: ActionObject[] = [];
  const snapshot = machine.getInitialSnapshot(inertScope(machine, withParent, actions) as never, input);
  return [snapshot, actions];
}

/**
 * `[nextSnapshot, actions, handled]` for one event, executing nothing.
 * @remarks `handled` is false when no transition of the current state
 * matches the event (guards included): the caller reports it, nothing is stored.
 */
export function eventStep(
  machine: AnyStateMachine,
  snapshot: AnyMachineSnapshot,
  event: EventObject,
  withParent: boolean,
): [AnyMachineSnapshot, ActionObject[], boolean] {
  const actions: ActionObject[] = [];
  const next = machine.transition(snapshot, event, inertScope(machine, withParent, actions) as never);
  // A targetless transition without actions returns the same snapshot: still handled.
  const handled = next !== snapshot || machine.getTransitionData(snapshot as never, event).length > 0;
  return [next, actions, handled];
}

/** The JSON form stored in `sk_instance.snapshot` (XState's persisted snapshot). */
export function persist(machine: AnyStateMachine, snapshot: AnyMachineSnapshot): unknown {
  return machine.getPersistedSnapshot(snapshot);
}

/**
 * Restores a stored snapshot, refusing one whose states the machine does not have.
 * @throws IncompatibleSnapshotError naming the instance, machine version and missing state.
 */
export function restore(machine: AnyStateMachine, stored: unknown, ctx: { instanceId: string; machineRef: string; withParent: boolean }): AnyMachineSnapshot {
  const value = (stored as { value?: unknown } | null)?.value;
  const missing = findMissingState(machine, value);
  if (missing !== undefined) throw new IncompatibleSnapshotError(ctx.instanceId, ctx.machineRef, missing);
  const scope = inertScope(machine, ctx.withParent, []);
  try {
    return machine.restoreSnapshot(stored as never, scope as never) as AnyMachineSnapshot;
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
