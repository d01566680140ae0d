import { createActor, SimulatedClock, type AnyStateMachine, type EventObject } from 'xstate';
import { getShortestPaths } from 'xstate/graph';
import { RuntimeError } from '../../runtime/errors.ts';
import { decodeStored } from '../../runtime/stored-values.ts';
import type { InstanceStore } from '../../runtime/ports.ts';
import { createSimulation, type Simulation } from '../../runtime/testing/index.ts';
import type { IdenticalCase, WalkMove } from './case-types.ts';
import { createPrng } from './prng.ts';

/** What is compared after every move: the actor as its owner sees it. */
export interface Observation {
  value: unknown;
  context: unknown;
  status: string;
  output: unknown;
  error: unknown;
  tags: string[];
  emitted: unknown[];
}

/** Where the runtime side runs: simulation's memory store, or a store (Postgres) with restarts. */
export interface RuntimeTarget {
  readonly store: () => Promise<InstanceStore>;
  /** Emitted events of an instance, in order, as the store's outbox holds them. */
  readonly emitted: (store: InstanceStore, instanceId: string) => Promise<unknown[]>;
  /** Close the runtime and open a new one on the same store before these move indexes. */
  readonly restartBefore?: (moveIndex: number) => boolean;
  /** Applied to the machine given to the runtime only (the mutation check alters it here). */
  readonly alter?: (machine: AnyStateMachine) => AnyStateMachine;
}

const START = Date.UTC(2030, 0, 1);

/** Lets promise callbacks and the work they start run to completion. */
async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

/** The reference: plain `createActor` with XState's own simulated clock. */
export async function observeReference(c: IdenticalCase, walk: readonly WalkMove[]): Promise<Observation[]> {
  const clock = new SimulatedClock();
  clock.set(START);
  const emitted: unknown[] = [];
  const actor = createActor(c.machine, { input: c.input, clock } as never);
  actor.on('*', (e) => void emitted.push(e));
  actor.subscribe({ error: () => {} });
  actor.start();
  await flush();
  const observe = (): Observation => {
    const s = actor.getSnapshot();
    return {
      value: s.value,
      context: s.context,
      status: s.status,
      output: s.output ?? null,
      error: errorShape(s.error),
      tags: [...s.tags].sort(),
      emitted: [...emitted],
    };
  };
  const out = [observe()];
  for (const move of walk) {
    if ('send' in move) {
      if (actor.getSnapshot().status === 'active') actor.send(move.send);
    } else {
      // Fire due timeouts one instant at a time, letting promises settle in between (as the runtime's simulation does).
      const target = clock.now() + move.wait;
      for (;;) {
        const due = [...(clock as unknown as { timeouts: Map<number, { start: number; timeout: number }> }).timeouts.values()]
          .map((t) => t.start + t.timeout)
          .filter((at) => at <= target)
          .sort((a, b) => a - b)[0];
        if (due === undefined) break;
        clock.set(due);
        await flush();
      }
      clock.set(target);
    }
    await flush();
    out.push(observe());
  }
  actor.stop();
  return out;
}

/** The same walk through the runtime (simulation mode over the target's store). */
export async function observeRuntime(c: IdenticalCase, walk: readonly WalkMove[], target: RuntimeTarget): Promise<Observation[]> {
  const store = await target.store();
  const machine = target.alter ? target.alter(c.machine) : c.machine;
  const open = (at: number) =>
    createSimulation({ machines: [{ machine, options: { version: '1' } }], store, startTime: new Date(at), onError: () => {} });
  let sim: Simulation = await open(START);
  const { id } = await sim.runtime.start({ machine: machine.id, input: c.input });
  await sim.settle();
  const observe = async (): Promise<Observation> => {
    const v = await sim.runtime.get(id);
    return {
      value: v.value,
      context: decodeStored(v.context),
      status: v.status,
      output: decodeStored(v.output ?? null),
      error: errorShape(v.error),
      tags: [...v.tags].sort(),
      emitted: await target.emitted(store, id),
    };
  };
  const out = [await observe()];
  try {
    for (const [i, move] of walk.entries()) {
      if (target.restartBefore?.(i)) {
        const now = sim.clock.now();
        await sim.runtime.close();
        sim = await open(now.getTime());
      }
      if ('send' in move) {
        await sim.runtime.send(id, move.send as EventObject & Record<string, unknown>).catch((e) => {
          // A finished instance refuses events; the reference actor ignores them.
          if (!(e instanceof RuntimeError && e.code === 'instance_not_active')) throw e;
        });
        await sim.settle();
      } else {
        await sim.advance(move.wait);
      }
      out.push(await observe());
    }
  } finally {
    await sim.runtime.close();
  }
  return out;
}

/** Errors compared by name and message (a stored error is its JSON form). */
function errorShape(e: unknown): unknown {
  if (e === undefined || e === null) return null;
  if (typeof e === 'object' && 'message' in e) return { message: String((e as { message: unknown }).message) };
  return { message: String(e) };
}

/** Seeded random walks of a case: `count` walks of `length` moves drawn from its events and waits. */
export function randomWalks(c: IdenticalCase, seed: number, count: number, length: number): WalkMove[][] {
  const rng = createPrng(seed);
  const moves: WalkMove[] = [...c.events.map((e) => ({ send: e })), ...(c.waits ?? []).map((w) => ({ wait: w }))];
  return Array.from({ length: count }, () => Array.from({ length }, () => rng.pick(moves)));
}

/** Shortest paths to every state of the machine (`xstate/graph`), as walks; at most `max`. */
export function graphWalks(c: IdenticalCase, max: number): WalkMove[][] {
  if (c.noGraph || c.events.length === 0) return [];
  const paths = getShortestPaths(c.machine, { input: c.input, events: [...c.events] as never, limit: 200 } as never);
  return paths
    .map((p) => p.steps.slice(1).map((s) => ({ send: s.event as EventObject })))
    .filter((w) => w.length > 0)
    .slice(0, max);
}

/** First difference between the two runs, described, or undefined when they agree at every move. */
export function firstDifference(expected: Observation[], actual: Observation[], walk: readonly WalkMove[]): string | undefined {
  for (let i = 0; i < Math.max(expected.length, actual.length); i++) {
    const e = expected[i];
    const a = actual[i];
    const diff = e && a ? differingField(e, a) : 'length';
    if (diff) {
      const moves = walk.slice(0, i).map((m) => ('send' in m ? m.send.type : `wait ${m.wait}`));
      const show = (o: Observation | undefined) => JSON.stringify(o?.[diff as keyof Observation]);
      return `after [${moves.join(', ')}]: ${diff} differs\n  createActor: ${show(e)}\n  runtime:     ${show(a)}`;
    }
  }
  return undefined;
}

function differingField(e: Observation, a: Observation): string | undefined {
  for (const key of ['status', 'value', 'context', 'tags', 'output', 'error', 'emitted'] as const) {
    if (!deepEqual(e[key], a[key])) return key;
  }
  return undefined;
}

/** Structural equality where an object property holding `undefined` equals an absent one (as JSON stores it). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return Number.isNaN(a) && Number.isNaN(b);
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (a instanceof Date) return a.getTime() === (b as Date).getTime();
  if (a instanceof Error && (a.name !== (b as Error).name || a.message !== (b as Error).message || !deepEqual(a.cause, (b as Error).cause)))
    return false;
  const keys = new Set([...Object.keys(a), ...Object.keys(b as object)]);
  for (const k of keys) if (!deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  return true;
}
