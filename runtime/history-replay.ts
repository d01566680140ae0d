import { isDeepStrictEqual } from 'node:util';
import type { AnyMachineSnapshot, EventObject } from 'xstate';
import { cancels } from './effect-address.ts';
import { planEffects } from './effect-plan.ts';
import { RuntimeError } from './errors.ts';
import { eventStep, initialStep } from './machine-snapshot.ts';
import type { EventRecord, NewEffect } from './ports.ts';
import { REVIVE_EVENT } from './quarantine.ts';
import type { RegisteredMachine } from './registry.ts';
import { decodeStored } from './stored-values.ts';
import { RATE_LIMIT_EVENT, STOP_EVENT } from './transition.ts';

/** An effect that was open after the last replayed entry, as the original planned it. */
export interface OpenEffect extends NewEffect {
  /** Version of the commit that planned it (its id's generation). */
  readonly generation: number;
}

/** The state an instance was in after a history entry, rebuilt from its history. */
export interface ReplayedState {
  readonly snapshot: AnyMachineSnapshot;
  /** Steps, child instances and timers planned up to the entry and neither finished nor cancelled by then. */
  readonly open: OpenEffect[];
}

/** A step or child result event: `xstate.done.actor.<id>` / `xstate.error.actor.<id>`. */
const ACTOR_RESULT = /^xstate\.(?:done|error)\.actor\.(.+)$/;

/**
 * Rebuilds the snapshot after the last of `entries` (history rows 1..n of one instance, in order) by giving
 * the recorded events to the machine again through XState's pure transition, as the engine did: nothing is
 * executed, so a step's result is the `output` its history row holds, never a second call. The effects the
 * replayed transitions plan are followed the way the store follows effect rows (opened by the commit that
 * plans them, closed by the event carrying their result or firing, cancelled by leaving their state), so what
 * was still open after entry n is known without reading effect rows.
 *
 * @remarks Every replayed transition must end in the state value its row recorded: a machine that no longer
 * decides as it did (another version registered under the same id and version) is refused with
 * `fork_replay_mismatch` rather than rebuilt into a state the instance never had. Runtime rows (`statekeeper.*`)
 * are not machine events: a stop or a breached rate limit ends the instance, a revive restores the state
 * before the failed transition, the others (pause, resume, notes, quarantine) change nothing here.
 */
export function replayHistory(reg: RegisteredMachine, instanceId: string, entries: readonly EventRecord[]): ReplayedState {
  const [init, ...rest] = entries;
  if (init?.seq !== 1 || init.type !== 'xstate.init') {
    throw new RuntimeError('fork_replay_mismatch', `Instance "${instanceId}" has no initial history row to replay from.`, { instanceId });
  }
  const input = (init.payload as { input?: unknown } | null)?.input;
  let [snapshot, actions] = initialStep(reg.machine, input, false);
  let open: OpenEffect[] = [];
  let beforeError: AnyMachineSnapshot | undefined;
  const plan = (acts: typeof actions, generation: number, now: Date) => {
    const p = planEffects(acts, {
      instanceId,
      parentId: null,
      machine: reg.machine,
      generation,
      now,
      owner: '',
      timerHorizonMs: 0,
      leaseMs: 0,
    });
    // As the store: cancels first, then the send ids scheduled again stop being held by the older open timers.
    open = open
      .filter((e) => !cancels(p.cancel, e))
      .map((e) => (e.kind === 'timer' && e.keyed && p.superseded.includes(e.name) ? { ...e, keyed: false } : e));
    // Sends are delivered as soon as their commit returns: they are never open after a later entry.
    for (const e of p.newEffects) if (e.kind !== 'send') open.push({ ...e, generation });
  };
  plan(actions, 1, init.createdAt);
  for (const entry of rest) {
    open = closedBy(open, entry);
    if (entry.type.startsWith('statekeeper.')) {
      if (entry.type === STOP_EVENT) snapshot = { ...snapshot, status: 'stopped' } as unknown as AnyMachineSnapshot;
      else if (entry.type === RATE_LIMIT_EVENT) snapshot = { ...snapshot, status: 'error' } as AnyMachineSnapshot;
      else if (entry.type === REVIVE_EVENT && beforeError) snapshot = beforeError;
      if (snapshot.status !== 'active') open = [];
      continue;
    }
    // An event its state did not handle changed nothing (it was recorded for the effect it closed).
    if (!entry.handled || snapshot.status !== 'active') continue;
    const event = { type: entry.type, ...((decodeStored(entry.payload) as Record<string, unknown> | null) ?? {}) } as EventObject;
    const before = snapshot;
    [snapshot, actions] = eventStep(reg.machine, snapshot, event, false);
    if (snapshot.status === 'error') beforeError = before;
    if (!isDeepStrictEqual(snapshot.value ?? null, entry.stateValue ?? null)) {
      throw new RuntimeError(
        'fork_replay_mismatch',
        `Replaying history entry ${entry.seq} ("${entry.type}") of instance "${instanceId}" with ${reg.ref} gives state ` +
          `${JSON.stringify(snapshot.value)}, not the recorded ${JSON.stringify(entry.stateValue)}: the registered machine no longer ` +
          'decides as it did; register the version the instance ran.',
        { instanceId, seq: entry.seq, machine: reg.ref },
      );
    }
    plan(actions, entry.seq, entry.createdAt);
  }
  return { snapshot, open };
}

/** The open effects after `entry` closed the one it carries the result or firing of. */
function closedBy(open: OpenEffect[], entry: EventRecord): OpenEffect[] {
  const actor = ACTOR_RESULT.exec(entry.type)?.[1];
  const index =
    actor !== undefined
      ? open.findIndex((e) => (e.kind === 'step' || e.kind === 'child') && e.name === actor)
      : entry.source === 'timer'
        ? // The timer that fired: the earliest due open one of the instance's own carrying this event.
          (open
            .map((e, i) => ({ e, i }))
            .filter(({ e }) => e.kind === 'timer' && e.target === null && (e.event as { type?: unknown } | null)?.type === entry.type)
            .sort((a, b) => (a.e.dueAt?.getTime() ?? 0) - (b.e.dueAt?.getTime() ?? 0))[0]?.i ?? -1)
        : -1;
  if (index < 0) return open;
  const closed = open[index]!;
  // A timer firing frees its send id: no other open timer of that id holds it (as the store's commit does).
  const free = (e: OpenEffect) => (closed.kind === 'timer' && e.kind === 'timer' && e.name === closed.name ? { ...e, keyed: false } : e);
  return open.filter((_, i) => i !== index).map(free);
}
