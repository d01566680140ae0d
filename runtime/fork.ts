import { randomUUID } from 'node:crypto';
import type { EventObject } from 'xstate';
import { effectId } from './effect-address.ts';
import type { EffectPlan, PlanContext } from './effect-plan.ts';
import { noEffects } from './effect-plan.ts';
import { derivableOriginal, freeDerivedKey } from './derived-instance.ts';
import type { Engine } from './engine.ts';
import { RuntimeError } from './errors.ts';
import { replayHistory, type OpenEffect } from './history-replay.ts';
import { publicId } from './instance-ids.ts';
import type { EventRecord, InstanceStore, NewEffect, PriorEvent } from './ports.ts';
import type { Registry } from './registry.ts';
import { FORK_EVENT, FORKED_EVENT } from './transition.ts';
import type { Caller } from './types.ts';
import { hashInput } from './views.ts';

/** Options of {@link forkInstance}. */
export interface ForkOptions {
  /** The history entry to fork from: the fork starts in the state the original was in after it. */
  readonly seq: number;
  readonly caller?: Caller;
  readonly reason?: string;
}

/** History rows read per page while collecting the entries to replay. */
const PAGE = 500;

/**
 * Starts a new instance from the state an instance was in after its history entry `seq`, linked to it
 * (`forkOf: { id, seq }`), and records the fork in both histories with the caller and the reason.
 *
 * @remarks History rows hold events, not snapshots: the snapshot after entry `seq` is rebuilt by replaying
 * entries 1..seq through the machine's pure transition (`history-replay.ts`), so the steps that completed
 * up to there are not run again — their results are the outputs recorded in history. What was open after
 * the entry (a step in flight, a child instance, a timer) is planned again under the fork's id, so every
 * step gets a new idempotency key (`<fork id>:<invoke id>:<generation>`) and really runs again; a timer keeps
 * the time it had left at the entry. The fork's history begins with a copy of entries 1..seq (so it can be
 * forked and verified in turn) followed by `statekeeper.fork`; the original's gets `statekeeper.forked`.
 * An original started under an idempotency key keeps it; the fork takes `<key>#fork-<n>`, the first n free.
 * A child instance is forked with its parent, not alone.
 */
export async function forkInstance(
  o: { engine: Engine; store: InstanceStore; registry: Registry },
  storedId: string,
  options: ForkOptions,
): Promise<string> {
  const { original, reg } = await derivableOriginal(o, storedId, 'fork');
  const { seq } = options;
  if (!Number.isSafeInteger(seq) || seq < 1 || seq > original.version) {
    throw new RuntimeError(
      'invalid_seq',
      `Instance "${storedId}" has history entries 1 to ${original.version}; seq ${String(seq)} is not one of them.`,
      { instanceId: storedId, seq, last: original.version },
    );
  }
  const entries = await historyThrough(o.store, storedId, seq);
  const { snapshot, open } = replayHistory(reg, storedId, entries);
  if (snapshot.status !== 'active') {
    throw new RuntimeError(
      'instance_not_active',
      `Instance "${storedId}" was ${snapshot.status} after history entry ${seq}: there is nothing to go on with; ` +
        'fork from an earlier entry.',
      { instanceId: storedId, seq, status: snapshot.status },
    );
  }
  const at = entries.at(-1)!.createdAt;
  const id = randomUUID();
  const forkOf = { id: storedId, seq };
  const input = (entries[0]!.payload as { input?: unknown } | null)?.input;
  const payload = (extra: Record<string, unknown>) => ({ ...extra, ...(options.reason ? { reason: options.reason } : {}) });
  await o.engine.create({
    reg,
    id,
    tenant: original.tenant,
    input,
    idempotencyKey: original.idempotencyKey ? await freeDerivedKey(o.store, original.tenant, original.idempotencyKey, 'fork') : null,
    inputHash: original.inputHash ?? hashInput(reg.id, input),
    parentId: null,
    parentRef: null,
    caller: options.caller,
    fork: {
      snapshot,
      forkOf,
      priorEvents: entries.map(({ instanceId: _, ...e }): PriorEvent => e),
      event: {
        type: FORK_EVENT,
        payload: payload({ forkOf: { id: publicId(original.tenant, storedId), seq } }),
        source: 'operator',
        actor: options.caller?.id ?? null,
        handled: true,
        idempotencyKey: null,
      },
      plan: (ctx) => replan(open, at, ctx),
    },
  });
  const note = { type: FORKED_EVENT, ...payload({ forkedAs: publicId(original.tenant, id), seq }) };
  await o.engine.apply(storedId, note as EventObject, { source: 'operator', caller: options.caller, note: true });
  return id;
}

/** History rows 1..seq of an instance. */
async function historyThrough(store: InstanceStore, id: string, seq: number): Promise<EventRecord[]> {
  const out: EventRecord[] = [];
  while (out.length < seq) {
    const page = await store.history(id, out.at(-1)?.seq ?? 0, Math.min(PAGE, seq - out.length));
    if (page.length === 0) break;
    out.push(...page);
  }
  return out;
}

/**
 * The effects open after the entry, planned again for the fork: new ids (the fork's instance id with the
 * original's invoke id and generation, unique as the originals were), leased to this process to run now as a
 * fresh commit's would be; a step's first call is recorded by the commit, a timer is due after what it had left.
 */
function replan(open: readonly OpenEffect[], at: Date, ctx: PlanContext): EffectPlan {
  const plan = noEffects();
  const now = ctx.now.getTime();
  // Timers of one send id planned by one commit are numbered, as effect-plan.ts numbers them, to keep ids unique.
  const occurrences = new Map<string, number>();
  for (const e of open) {
    const { generation, ...planned } = e;
    if (e.kind === 'timer') {
      const key = `${e.name}\u0000${generation}`;
      const occurrence = occurrences.get(key) ?? 0;
      occurrences.set(key, occurrence + 1);
      const left = Math.max(0, (e.dueAt?.getTime() ?? at.getTime()) - at.getTime());
      // A delayed send to a child or the parent that fell due by the entry was delivered there: not again.
      if (e.target !== null && left === 0) continue;
      const armed = left <= ctx.timerHorizonMs;
      plan.newEffects.push({
        ...planned,
        id: effectId.timer(ctx.instanceId, e.name, generation, occurrence),
        dueAt: new Date(now + left),
        leaseOwner: armed ? ctx.owner : null,
        leaseUntil: armed ? new Date(now + ctx.leaseMs) : null,
      });
      continue;
    }
    const again: NewEffect = {
      ...planned,
      id: effectId.invoke(ctx.instanceId, e.name, generation),
      // As effect-plan.ts: the commit opening a step records its first call, made as soon as the commit returns.
      attempts: e.kind === 'step' ? 1 : 0,
      dueAt: ctx.now,
      leaseOwner: ctx.owner,
      leaseUntil: new Date(now + ctx.leaseMs),
    };
    plan.newEffects.push(again);
  }
  return plan;
}

/** The first `<root>#fork-<n>` key the tenant has not used. */
