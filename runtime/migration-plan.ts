/**
 * The decide step of a migration, pure apart from the context schema check: a stored instance, its effect
 * rows and a target version in; the migrated snapshot, the effect plan and a report out, or a refusal.
 * `engine.ts` commits what it returns (or, for a dry run, returns only the report).
 *
 * @remarks Open effects are reconciled with what the target's active states define, so that a migration
 * leaves no orphaned timer or step:
 * - a step or child invocation is **kept** when an active state of the target invokes the same id with
 *   the same `src` (its result then reaches the migrated instance, once), else **cancelled**;
 * - a timer (an `after`, a delayed raise or send) is **kept** when an active state of the target schedules
 *   the same send id on entry (it fires once, at its original due time), else **cancelled**;
 * - an undelivered send to another instance is kept (it belongs to no state);
 * - an invocation or delayed raise an active state of the target defines and that has no open row is
 *   **planned** now (a timer from now, with its full delay) — unless the state was already active and the
 *   row exists closed (the step completed, the timer fired: neither runs again).
 * Cancelled rows are closed with the migration as their reason in the same commit.
 */
import type { AnyMachineSnapshot, AnyStateMachine } from 'xstate';
import { createActor } from 'xstate';
import type { CancelKey } from './effect-address.ts';
import { planEffects, type EffectPlan, type PlanContext } from './effect-plan.ts';
import { MigrationRefusedError } from './errors.ts';
import { type ActionObject, findMissingState, restore } from './machine-snapshot.ts';
import { logicOf } from './machine-check.ts';
import { applyChain, describePath, leafPaths, type MigrationDefinition, MigrationStepError, type MigrationPath } from './migrations.ts';
import type { EffectKind, EffectRecord, InstanceRecord, InstanceUpdate } from './ports.ts';
import { isMachine, type RegisteredMachine } from './registry.ts';
import { issueList } from './standard-schema.ts';
import { decodeStored, encodeStored } from './stored-values.ts';
import { diffTasks, type TaskChanges } from './tasks.ts';
import { updateOf } from './transition.ts';

/** History type of the commit that moves an instance to another version. */
export const MIGRATED_EVENT = 'statekeeper.migrated';

/** The event invoke inputs and dynamic delays see when a migration plans them (they run on no real event). */
const MIGRATE_EVENT = { type: MIGRATED_EVENT };

/** An effect row as a report shows it. */
export interface EffectSummary {
  readonly kind: EffectKind;
  readonly name: string;
  readonly id?: string;
  /** Step name, child machine id, or the target of a timer/send. */
  readonly target?: string | null;
  readonly dueAt?: string | null;
}

/** What a migration does (or would do) to one instance. */
export interface MigrationReport {
  readonly instanceId: string;
  readonly machine: string;
  readonly from: string;
  readonly to: string;
  readonly migration: MigrationPath;
  readonly state: { readonly before: unknown; readonly after: unknown; readonly paths: readonly { from: string; to: string }[] };
  readonly context: { readonly added: string[]; readonly removed: string[]; readonly changed: string[] };
  readonly effects: {
    readonly kept: EffectSummary[];
    readonly cancelled: (EffectSummary & { reason: string })[];
    readonly planned: EffectSummary[];
  };
}

/** The snapshot a target version makes of a stored instance, checked by restoring it as after a restart. */
export interface MigratedSnapshot {
  readonly snapshot: AnyMachineSnapshot;
  readonly path: MigrationPath;
  readonly before: { value: unknown; context: unknown };
}

/** Everything the commit of a migration writes, and its report. */
export interface PreparedMigration {
  readonly target: RegisteredMachine;
  readonly report: MigrationReport;
  readonly snapshot: AnyMachineSnapshot;
  readonly update: InstanceUpdate;
  readonly plan: EffectPlan;
  readonly tasks: TaskChanges;
}

/** Inputs of {@link migrateSnapshot}. */
export interface SnapshotMigrationInput {
  readonly record: Pick<InstanceRecord, 'id' | 'machineId' | 'machineVersion' | 'status' | 'snapshot' | 'parentId'>;
  readonly target: RegisteredMachine;
  /** Registered migrations from the instance's version to the target; `undefined` or empty: none (identity). */
  readonly chain: readonly MigrationDefinition[] | undefined;
  /** Children entries of the snapshot (invoke id → persisted child); default: those the stored snapshot has. */
  readonly children?: (value: unknown, context: unknown) => Record<string, unknown>;
}

/**
 * Migrates a stored snapshot to `target`: the chain (or nothing) gives the value and context, the target must
 * have every state of the value and accept the context (its `contextSchema`), and the result must restore.
 * @throws MigrationRefusedError naming the reason; nothing is written by this function in any case.
 */
export async function migrateSnapshot(input: SnapshotMigrationInput): Promise<MigratedSnapshot> {
  const { record, target } = input;
  const refuse = (code: ConstructorParameters<typeof MigrationRefusedError>[0], problem: string, details?: Record<string, unknown>) =>
    new MigrationRefusedError(code, record.id, record.machineVersion, target.version, problem, details);
  const stored = (record.snapshot ?? {}) as Record<string, unknown>;
  const before = { value: stored.value, context: decodeStored(stored.context) };
  let migrated: { value: unknown; context: unknown };
  try {
    migrated = applyChain(input.chain ?? [], { ...before, status: String(stored.status), version: record.machineVersion });
  } catch (e) {
    if (e instanceof MigrationStepError) throw refuse('migration_failed', e.message, { step: e.step });
    throw e;
  }
  const missing = findMissingState(target.machine, migrated.value);
  if (missing !== undefined)
    throw refuse('migration_state_missing', `state "${missing}" does not exist in ${target.ref}`, { missingState: missing });
  if (target.contextSchema) {
    const result = await target.contextSchema['~standard'].validate(migrated.context);
    if (result.issues) {
      const issues = issueList(result.issues);
      const first = issues[0];
      throw refuse(
        'migration_context_invalid',
        `the context fails the context schema of ${target.ref}: ${first?.path || 'context'}: ${first?.message}`,
        {
          issues,
        },
      );
    }
  }
  let value: unknown;
  let persisted: Record<string, unknown>;
  try {
    // Fills in initial child states a migration left out, as XState resolves a configuration.
    const resolved = target.machine.resolveState({ value: migrated.value as never, context: migrated.context as never });
    if (resolved.status !== 'active') throw new Error(`state ${JSON.stringify(resolved.value)} is final`);
    value = resolved.value;
    persisted = {
      status: 'active',
      value,
      historyValue: stored.historyValue ?? {},
      context: encodeStored(migrated.context, 'context'),
      children: input.children ? input.children(value, migrated.context) : (stored.children ?? {}),
    };
  } catch (e) {
    throw refuse('migration_unresolvable', `${target.ref} cannot resolve the migrated snapshot: ${(e as Error).message}`);
  }
  let snapshot: AnyMachineSnapshot;
  try {
    // The runtime's own restore, as after a restart: what passes here is what the instance will run on.
    snapshot = restore(target.machine, persisted, { instanceId: record.id, machineRef: target.ref, withParent: record.parentId !== null });
  } catch (e) {
    throw refuse('migration_unresolvable', (e as Error).message);
  }
  return { snapshot, path: describePath(input.chain), before };
}

/** Inputs of {@link planMigration}. */
export interface MigrationPlanInput {
  readonly record: InstanceRecord;
  readonly effects: readonly EffectRecord[];
  /** The instance's own version, when it is registered here (for the tasks its states had open). */
  readonly source: RegisteredMachine | undefined;
  readonly target: RegisteredMachine;
  readonly chain: readonly MigrationDefinition[] | undefined;
  readonly planning: PlanContext;
  readonly actor: string | null;
}

/** The migrated snapshot, its effect plan (keep, cancel, plan) and the report. */
export async function planMigration(input: MigrationPlanInput): Promise<PreparedMigration> {
  const { record, target, planning } = input;
  const stored = (record.snapshot ?? {}) as { value?: unknown; children?: Record<string, { src?: unknown }> };
  const open = input.effects.filter((e) => e.status === 'pending');
  const wasActive = new Set(nodePathsOf(stored.value));
  let required: Required = { invokes: [], timers: [] };
  const migrated = await migrateSnapshot({
    ...input,
    children: (value, context) => {
      required = requiredEffects(target.machine, value, context);
      return childrenFor(target.machine, required, stored.children ?? {}, open, wasActive, input.effects);
    },
  });
  const { snapshot } = migrated;

  const kept: EffectSummary[] = [];
  const cancelled: (EffectSummary & { reason: string })[] = [];
  const cancel: CancelKey[] = [];
  for (const e of open) {
    const reason = cancelReason(e, required, target);
    if (reason === undefined) kept.push(summary(e));
    else {
      cancelled.push({ ...summary(e), reason });
      // A timer by its row: of several open with one send id, `cancel(id)` would reach only the one holding it.
      const key: CancelKey = e.kind === 'timer' ? { kind: 'timerRow', effectId: e.id } : { kind: 'actor', invokeId: e.name };
      if (!cancel.some((k) => k.kind === key.kind && JSON.stringify(k) === JSON.stringify(key))) cancel.push(key);
    }
  }
  const keptNames = new Set(
    open.filter((e) => !cancelled.some((c) => c.id === e.id)).map((e) => `${e.kind === 'timer' ? 't' : 'a'}:${e.name}`),
  );
  const actions: ActionObject[] = [];
  for (const inv of required.invokes)
    if (!keptNames.has(`a:${inv.id}`) && !ranBefore(inv.id, inv.nodePath, wasActive, input.effects, ['step', 'child']))
      actions.push({ type: 'xstate.spawnChild', params: { id: inv.id, src: inv.src, input: inv.input } });
  for (const t of required.timers)
    if (t.plan && !keptNames.has(`t:${t.id}`) && !ranBefore(t.id, t.nodePath, wasActive, input.effects, ['timer']))
      actions.push({ type: 'xstate.raise', params: { id: t.id, event: t.event, delay: t.delay } });
  const plan = planEffects(actions, planning);
  plan.cancel.push(...cancel);
  // A timer is planned only for a send id no kept timer has, and the open ones of that id are cancelled by row:
  // nothing open is left holding it.
  plan.superseded = [];

  const update = updateOf(target, snapshot);
  const before = input.source ? tryRestore(input.source, record) : undefined;
  const tasks = before
    ? diffTasks(before, snapshot, {
        instanceId: record.id,
        tenant: record.tenant,
        machineId: record.machineId,
        generation: planning.generation,
        now: planning.now,
        eventType: MIGRATED_EVENT,
        actor: input.actor,
        newEffects: plan.newEffects,
      })
    : { open: [], close: [], actor: input.actor };
  const report: MigrationReport = {
    instanceId: record.id,
    machine: record.machineId,
    from: record.machineVersion,
    to: target.version,
    migration: migrated.path,
    state: { before: stored.value, after: snapshot.value, paths: statePaths(stored.value, snapshot.value) },
    context: contextDiff(migrated.before.context, snapshot.context),
    effects: {
      kept,
      cancelled,
      planned: plan.newEffects.map((e) => summary({ ...e, dueAt: e.dueAt })),
    },
  };
  return { target, report, snapshot, update, plan, tasks };
}

/** What the target's active states define: their invocations and the delayed raises/sends of their entry actions. */
interface Required {
  invokes: { id: string; src: string; kind: 'step' | 'child'; target: string; input: unknown; nodePath: string }[];
  /** `plan` is false for a delayed send (kept when open, not planned anew: its target is resolved by XState at entry). */
  timers: { id: string; event: unknown; delay: number; nodePath: string; plan: boolean }[];
}

function requiredEffects(machine: AnyStateMachine, value: unknown, context: unknown): Required {
  const out: Required = { invokes: [], timers: [] };
  const nodes = activeNodes(machine, value);
  const args = { context, event: MIGRATE_EVENT, self: undefined };
  for (const node of nodes) {
    for (const inv of node.invoke as { id: string; src: unknown; input?: unknown }[]) {
      if (typeof inv.src !== 'string') continue;
      const logic = logicOf(machine, inv.src);
      const input = typeof inv.input === 'function' ? inv.input(args) : inv.input;
      out.invokes.push({
        id: inv.id,
        src: inv.src,
        kind: isMachine(logic) ? 'child' : 'step',
        target: isMachine(logic) ? logic.id : inv.src,
        input,
        nodePath: node.path.join('.'),
      });
    }
    for (const a of node.entry as unknown[]) {
      const action = a as { type?: string; id?: unknown; delay?: unknown; event?: unknown };
      if (typeof a !== 'function' || (action.type !== 'xstate.raise' && action.type !== 'xstate.sendTo')) continue;
      if (action.delay === undefined || typeof action.id !== 'string') continue;
      const event = typeof action.event === 'function' ? action.event(args) : action.event;
      const delay = resolveDelay(machine, action.delay, args);
      out.timers.push({ id: action.id, event, delay, nodePath: node.path.join('.'), plan: action.type === 'xstate.raise' });
    }
  }
  return out;
}

function resolveDelay(machine: AnyStateMachine, delay: unknown, args: object): number {
  const named = typeof delay === 'string' ? machine.implementations.delays?.[delay] : delay;
  const ms = typeof named === 'function' ? named(args) : named;
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) throw new Error(`delay ${JSON.stringify(delay)} does not resolve`);
  return ms;
}

/** The active state nodes of a value, ancestors before descendants, in document order. */
function activeNodes(machine: AnyStateMachine, value: unknown) {
  const snapshot = machine.resolveState({ value: value as never, context: {} as never });
  return [...(snapshot._nodes as AnyMachineSnapshot['_nodes'])].sort((a, b) => a.order - b.order);
}

/** Paths of the state nodes a stored value names (`''` for the root, `a`, `a.b`), read without a machine. */
function nodePathsOf(value: unknown): string[] {
  const paths = new Set<string>(['']);
  for (const leaf of leafPaths(value)) {
    const parts = leaf.split('.');
    for (let i = 1; i <= parts.length; i++) paths.add(parts.slice(0, i).join('.'));
  }
  return [...paths];
}

/** The state (by path) was active before and the invocation or timer of this activation has run (closed row): not again. */
function ranBefore(name: string, nodePath: string, wasActive: Set<string>, effects: readonly EffectRecord[], kinds: EffectKind[]): boolean {
  return wasActive.has(nodePath) && effects.some((e) => e.name === name && kinds.includes(e.kind) && e.status !== 'pending');
}

/**
 * The snapshot's child actors: the stored entry of each invocation the target keeps (or that completed in a
 * state still active), a fresh one for each it plans. Without an entry, leaving the state later would not
 * stop (and cancel) the invocation.
 */
function childrenFor(
  machine: AnyStateMachine,
  required: Required,
  stored: Record<string, { src?: unknown }>,
  open: readonly EffectRecord[],
  wasActive: Set<string>,
  effects: readonly EffectRecord[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const inv of required.invokes) {
    const old = stored[inv.id];
    if (old && old.src === inv.src) out[inv.id] = old;
    else if (!open.some((e) => e.name === inv.id && e.kind === inv.kind) && ranBefore(inv.id, inv.nodePath, wasActive, effects, [inv.kind]))
      continue;
    else {
      const logic = logicOf(machine, inv.src);
      const snapshot = isMachine(logic)
        ? createActor(logic, { input: inv.input }).getPersistedSnapshot()
        : { status: 'active', input: inv.input };
      out[inv.id] = { snapshot, src: inv.src, syncSnapshot: false };
    }
  }
  return out;
}

/** Why an open effect does not survive the migration, or `undefined` when it is kept. */
function cancelReason(e: EffectRecord, required: Required, target: RegisteredMachine): string | undefined {
  if (e.kind === 'send') return undefined;
  if (e.kind === 'timer') {
    return required.timers.some((t) => t.id === e.name)
      ? undefined
      : `no active state of ${target.ref} schedules "${e.name}" on entry (the timer is cancelled)`;
  }
  const inv = required.invokes.find((i) => i.id === e.name);
  if (!inv) return `no active state of ${target.ref} invokes "${e.name}"`;
  if (inv.kind !== e.kind || inv.target !== e.target)
    return `"${e.name}" invokes ${inv.kind} "${inv.target}" in ${target.ref}, not ${e.kind} "${e.target}"`;
  return undefined;
}

function summary(e: Pick<EffectRecord, 'kind' | 'name' | 'target' | 'dueAt'> & { id?: string }): EffectSummary {
  return { kind: e.kind, name: e.name, id: e.id, target: e.target, dueAt: e.dueAt ? e.dueAt.toISOString() : null };
}

function tryRestore(source: RegisteredMachine, record: InstanceRecord): AnyMachineSnapshot | undefined {
  try {
    return restore(source.machine, record.snapshot, {
      instanceId: record.id,
      machineRef: source.ref,
      withParent: record.parentId !== null,
    });
  } catch {
    return undefined;
  }
}

/** Old leaf state paths and where each went (a leaf that vanished or appeared is paired with `""`). */
function statePaths(before: unknown, after: unknown): { from: string; to: string }[] {
  const was = leafPaths(before);
  const now = leafPaths(after);
  if (was.length === 1 && now.length === 1) return [{ from: was[0]!, to: now[0]! }];
  return [
    ...was.map((p) => ({ from: p, to: now.includes(p) ? p : '' })),
    ...now.filter((p) => !was.includes(p)).map((p) => ({ from: '', to: p })),
  ];
}

const MAX_DIFF_PATHS = 200;

/** Paths added, removed and changed between two contexts (compared in their stored form: Dates as tagged values). */
function contextDiff(before: unknown, after: unknown): MigrationReport['context'] {
  const out = { added: [] as string[], removed: [] as string[], changed: [] as string[] };
  const a = encodeStored(before ?? null, 'context');
  const b = encodeStored(after ?? null, 'context');
  const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
  const walk = (x: unknown, y: unknown, path: string) => {
    if (out.added.length + out.removed.length + out.changed.length >= MAX_DIFF_PATHS) return;
    if (isObj(x) && isObj(y)) {
      for (const k of Object.keys(x)) {
        const p = path ? `${path}.${k}` : k;
        if (!Object.hasOwn(y, k)) out.removed.push(p);
        else walk(x[k], y[k], p);
      }
      for (const k of Object.keys(y)) if (!Object.hasOwn(x, k)) out.added.push(path ? `${path}.${k}` : k);
      return;
    }
    if (JSON.stringify(x) !== JSON.stringify(y)) out.changed.push(path || '(context)');
  };
  walk(a, b, '');
  return out;
}
