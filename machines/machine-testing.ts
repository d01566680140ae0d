import { createActor, initialTransition, transition, type AnyMachineSnapshot, type AnyStateMachine, type AnyEventObject } from 'xstate';
import { getShortestPaths } from 'xstate/graph';
import { expect } from 'vitest';

/**
 * Helpers for machine tests: they drive the pure `initialTransition` /
 * `transition` exactly as the runtime does and read the returned actions.
 * Test-only; nothing outside `*.test.ts` imports this file.
 */

/** The event the runtime delivers when invocation `id` succeeds. */
export const done = (id: string, output: unknown = {}): AnyEventObject => ({ type: `xstate.done.actor.${id}`, output }) as AnyEventObject;

/** The event the runtime delivers when invocation `id` failed after its retries. */
export const fail = (id: string, message = 'boom'): AnyEventObject =>
  ({ type: `xstate.error.actor.${id}`, error: { message, name: 'ExternalSystemError' } }) as AnyEventObject;

type Action = { type: string; params?: Record<string, unknown> };

/** The invocations (`xstate.spawnChild`) among the actions `transition()` returned. */
export function spawns(actions: readonly unknown[]): { id: string; src: string; input: unknown }[] {
  return (actions as Action[])
    .filter((a) => a.type === 'xstate.spawnChild')
    .map((a) => ({ id: a.params!.id as string, src: a.params!.src as string, input: a.params!.input }));
}

/** The delayed self-events (`xstate.raise` with a delay) among the actions: what the runtime turns into timer rows. */
export function timers(actions: readonly unknown[]): { id: string; delay: number; event: AnyEventObject }[] {
  return (actions as Action[])
    .filter((a) => a.type === 'xstate.raise' && a.params?.delay !== undefined)
    .map((a) => ({ id: a.params!.id as string, delay: a.params!.delay as number, event: a.params!.event as AnyEventObject }));
}

/** A machine driven step by step, recording every invocation started on the way. */
export class Drive {
  snapshot: AnyMachineSnapshot;
  actions: unknown[];
  readonly started: { id: string; src: string; input: unknown }[] = [];

  constructor(
    readonly machine: AnyStateMachine,
    input: unknown,
  ) {
    [this.snapshot, this.actions] = initialTransition(machine, input);
    this.started.push(...spawns(this.actions));
  }

  /** Applies one event; fails the test when the machine does not accept it. */
  send(event: AnyEventObject): this {
    expect(this.snapshot.can(event), `event ${event.type} in ${JSON.stringify(this.snapshot.value)}`).toBe(true);
    [this.snapshot, this.actions] = transition(this.machine, this.snapshot, event);
    this.started.push(...spawns(this.actions));
    return this;
  }

  /** Ids of the invocations started so far, in order. */
  get startedIds(): string[] {
    return this.started.map((s) => s.id);
  }
}

/**
 * Persists a snapshot, round-trips it through JSON, restores it with
 * `createActor` and checks that the restored actor takes `next` like the
 * original does.
 */
export function expectRestores(machine: AnyStateMachine, snapshot: AnyMachineSnapshot, next?: AnyEventObject): void {
  const persisted = JSON.parse(JSON.stringify(machine.getPersistedSnapshot(snapshot)));
  const actor = createActor(machine, { snapshot: persisted });
  // Restored promise children restart on `start()`; their placeholder rejects
  // asynchronously, after the synchronous send below has been processed.
  actor.start();
  expect(actor.getSnapshot().value).toEqual(snapshot.value);
  expect(actor.getSnapshot().context).toEqual(JSON.parse(JSON.stringify(snapshot.context)));
  if (next) {
    const [expected] = transition(machine, snapshot, next);
    actor.send(next);
    expect(actor.getSnapshot().value).toEqual(expected.value);
  }
  actor.stop();
}

/** Candidate events for a snapshot: results for each running child, plus any fixed events. */
export type EventsFor = (snapshot: AnyMachineSnapshot) => AnyEventObject[];

/** Builds {@link EventsFor}: done (with `outputs[id]`) and error for every active child, then `extra`. */
export function childEvents(outputs: Record<string, unknown>, extra: AnyEventObject[] = []): EventsFor {
  return (snapshot) => [...Object.keys(snapshot.children).flatMap((id) => [done(id, outputs[id] ?? {}), fail(id)]), ...extra];
}

/**
 * Enumerates shortest paths with `xstate/graph`, replays each through
 * `transition()`, and checks the persist/restore round trip at every end state.
 * `serializeState` decides which snapshots count as the same vertex (default:
 * value and context). Returns the number of paths.
 */
export function replayShortestPaths(
  machine: AnyStateMachine,
  input: unknown,
  events: EventsFor,
  serializeState?: (snapshot: AnyMachineSnapshot) => string,
): number {
  const paths = getShortestPaths(machine, {
    input,
    events: (s) => events(s as AnyMachineSnapshot),
    ...(serializeState && { serializeState: (s) => serializeState(s as AnyMachineSnapshot) }),
  });
  for (const path of paths) {
    let [snapshot] = initialTransition(machine, input);
    // The first step of a path is the `xstate.init` that produced the initial snapshot.
    for (const step of path.steps.slice(1)) {
      [snapshot] = transition(machine, snapshot, step.event);
      expect(snapshot.value).toEqual(step.state.value);
    }
    // With a custom serializer the path ends in the same vertex, not necessarily the same snapshot.
    if (serializeState) expect(serializeState(snapshot)).toBe(serializeState(path.state as AnyMachineSnapshot));
    else expect(snapshot.context).toEqual(path.state.context);
    const next = snapshot.status === 'active' ? events(snapshot).find((e) => snapshot.can(e)) : undefined;
    expectRestores(machine, snapshot, next);
  }
  return paths.length;
}
