import { createInspector, createWebSocketInspector, type StatelyInspectionEvent } from '@statelyai/inspect';
import { createInspectorServer } from '@statelyai/inspect/server';
import type { AnyMachineSnapshot, AnyStateMachine, EventObject } from 'xstate';
import { eventStep, initialStep } from '../runtime/machine-snapshot.ts';
import type { RuntimeObserver } from '../runtime/observer.ts';
import type { EventRecord } from '../runtime/ports.ts';

/** Where inspection events go: `@statelyai/inspect`'s adapter interface (a WebSocket relay, or a test receiver). */
export interface InspectionAdapter {
  send(event: StatelyInspectionEvent): void;
  start?(): void;
  stop?(): void;
}

/** A running connection to the Stately inspector. */
export interface InspectorConnection {
  readonly adapter: InspectionAdapter;
  /** The page to open in a browser (it embeds the Stately inspector). */
  readonly url: string;
  close(): void;
}

/**
 * Starts the `@statelyai/inspect` relay (an HTTP page embedding the Stately
 * inspector, and a WebSocket server) on `port` and connects to it. Opt-in:
 * the composition root calls it only when `STATEKEEPER_INSPECT=on`.
 *
 * @remarks The relay listens on every interface of the machine (the library
 * decides); turn it on where that is acceptable, typically on a developer's
 * machine.
 */
export function startInspector(port: number): InspectorConnection {
  const server = createInspectorServer({ port, autoOpen: false });
  const inspector = createWebSocketInspector({ url: `ws://localhost:${port}` });
  return {
    adapter: inspector.adapter,
    url: `http://localhost:${port}`,
    close() {
      inspector.stop();
      server.stop();
    },
  };
}

/** Resolves the machine of an instance (the runtime's registry). */
export type MachineLookup = (machineId: string, version: string) => AnyStateMachine | undefined;

/**
 * Streams a running runtime's instances to the inspector: `@xstate.actor`
 * when an instance is created (child instances under their parent), then
 * `@xstate.event` and `@xstate.snapshot` for every committed event.
 */
export function liveInspection(adapter: InspectionAdapter, machineOf: MachineLookup, options: SanitizeOptions = {}): RuntimeObserver {
  const inspector = createInspector(adapter, { autoStart: false, ...sanitizers(options.sanitize) });
  return {
    transition(t) {
      const ref = actorRef(t.instanceId, machineOf(t.machineId, t.machineVersion), t.parentId);
      const snapshot = { status: t.after.status, value: t.after.value, context: t.after.context, output: t.after.output };
      if (t.before === null) inspector.actor(ref, snapshot);
      else if (t.handled) {
        inspector.event(ref, t.event, { source: sourceOf(t.source) });
        inspector.snapshot(ref, snapshot, { event: t.event });
      }
    },
  };
}

/** Options of the inspection functions. */
export interface SanitizeOptions {
  /** Applied to every event and context before it leaves (the API's redaction of secrets). */
  sanitize?: (value: unknown) => unknown;
}

function sanitizers(sanitize: SanitizeOptions['sanitize']) {
  if (!sanitize) return {};
  return {
    sanitizeEvent: (e: EventObject) => sanitize(e) as EventObject,
    sanitizeContext: (c: Record<string, unknown>) => sanitize(c) as Record<string, unknown>,
  };
}

/** One instance's stored run, as {@link replayInspection} takes it. */
export interface StoredRun {
  instanceId: string;
  parentId: string | null;
  machine: AnyStateMachine;
  /** The whole history, oldest first. */
  history: EventRecord[];
}

/** What a replay produced. */
export interface Replay {
  events: StatelyInspectionEvent[];
  /** History rows whose replayed state value differs from the stored one (should be none). */
  mismatches: { instanceId: string; seq: number; stored: unknown; replayed: unknown }[];
}

/**
 * Replays stored runs (an instance and its children) into the inspector, in
 * the order they happened: `@xstate.actor` at creation, then `@xstate.event`
 * and `@xstate.snapshot` per handled event, with the stored times.
 *
 * @remarks The snapshots are recomputed by applying the history to the pure
 * machine (`transition`, nothing executed), so each carries its context as it
 * was; each recomputed state value is checked against the stored one, and a
 * difference is reported rather than hidden. An operator's
 * `statekeeper.stop` shows as a `stopped` snapshot.
 */
export function replayInspection(runs: StoredRun[], adapter?: InspectionAdapter, options: SanitizeOptions = {}): Replay {
  const steps = runs.flatMap((run) => replaySteps(run).map((s) => ({ ...s, run })));
  // Stable sort: rows of one instance keep their sequence, instances interleave by commit time.
  steps.sort((a, b) => a.at - b.at);
  const events: StatelyInspectionEvent[] = [];
  let at = 0;
  const sink: InspectionAdapter = { send: (e) => events.push({ ...e, createdAt: String(at) }) };
  const inspector = createInspector(sink, { autoStart: false, ...sanitizers(options.sanitize) });
  const mismatches: Replay['mismatches'] = [];
  for (const s of steps) {
    at = s.at;
    const ref = actorRef(s.run.instanceId, s.run.machine, s.run.parentId);
    if (s.mismatch) mismatches.push({ instanceId: s.run.instanceId, seq: s.seq, ...s.mismatch });
    if (s.kind === 'actor') inspector.actor(ref, s.snapshot);
    else {
      inspector.event(ref, s.event, { source: s.source });
      inspector.snapshot(ref, s.snapshot, { event: s.event });
    }
  }
  if (adapter) for (const e of events) adapter.send(e);
  return { events, mismatches };
}

interface ReplayStep {
  kind: 'actor' | 'event';
  seq: number;
  at: number;
  event: EventObject;
  source?: string;
  snapshot: { status: AnyMachineSnapshot['status'] | 'stopped'; value: unknown; context: unknown; output?: unknown };
  mismatch?: { stored: unknown; replayed: unknown };
}

function replaySteps(run: StoredRun): ReplayStep[] {
  const out: ReplayStep[] = [];
  const withParent = run.parentId !== null;
  let snapshot: AnyMachineSnapshot | undefined;
  for (const row of run.history) {
    const at = row.createdAt.getTime();
    if (row.type === 'xstate.init') {
      [snapshot] = initialStep(run.machine, (row.payload as { input?: unknown } | null)?.input, withParent);
      out.push({
        kind: 'actor',
        seq: row.seq,
        at,
        event: { type: 'xstate.init' },
        snapshot: view(snapshot),
        mismatch: check(row, snapshot),
      });
      continue;
    }
    if (!snapshot) continue;
    const event = { ...(row.payload && typeof row.payload === 'object' ? row.payload : {}), type: row.type } as EventObject;
    if (row.type === 'statekeeper.stop') {
      out.push({
        kind: 'event',
        seq: row.seq,
        at,
        event,
        source: row.actor ?? undefined,
        snapshot: { ...view(snapshot), status: 'stopped' },
      });
      continue;
    }
    if (!row.handled) continue;
    [snapshot] = eventStep(run.machine, snapshot, event, withParent);
    out.push({
      kind: 'event',
      seq: row.seq,
      at,
      event,
      source: sourceOf(row.source, row.actor),
      snapshot: view(snapshot),
      mismatch: check(row, snapshot),
    });
  }
  return out;
}

function view(s: AnyMachineSnapshot) {
  return { status: s.status, value: s.value, context: s.context, ...(s.status === 'done' ? { output: s.output } : {}) };
}

function check(row: EventRecord, s: AnyMachineSnapshot): ReplayStep['mismatch'] {
  return JSON.stringify(row.stateValue) === JSON.stringify(s.value) ? undefined : { stored: row.stateValue, replayed: s.value };
}

/**
 * An actor-ref-like object: the inspector reads the session id, the machine
 * config (as the definition) and the parent from it.
 * @remarks The parent goes in `_parent`, not in `info.parentId`: in
 * @statelyai/inspect 0.7.2 `info?.parentId ?? typeof actorRef === "string" ? …`
 * parses as `(info?.parentId ?? …) ? undefined : …`, so a given parentId is dropped.
 */
function actorRef(instanceId: string, machine: AnyStateMachine | undefined, parentId: string | null) {
  return {
    id: instanceId,
    sessionId: instanceId,
    logic: machine ? { config: machine.config } : undefined,
    _parent: parentId ? { sessionId: parentId } : undefined,
    send: () => {},
  } as never;
}

/** Who sent an event, as an inspector session id: the recorded actor (a caller), else the kind of source. */
function sourceOf(source: string | undefined, actor?: string | null): string | undefined {
  return actor ?? (source === 'api' || source === 'operator' ? source : undefined);
}
