/**
 * Human tasks: a state that waits for a person declares the task in its
 * `meta.task`. The runtime derives open tasks from the active state nodes of
 * each committed snapshot and writes the task rows in the same commit as the
 * transition (opened on entry, closed on exit), so the inbox can never
 * disagree with the instance.
 */
import type { AnyMachineSnapshot, AnyStateMachine, AnyStateNode } from 'xstate';
import type { NewEffect } from './ports.ts';
import { RuntimeError } from './errors.ts';
import { checkAnswer, formProblem } from './task-forms.ts';

/** What a state's `meta.task` declares, normalised. */
export interface TaskSpec {
  /** Shown in the inbox. */
  readonly title: string;
  readonly description: string | null;
  /** The event that completes the task (the state must handle it). */
  readonly event: string;
  /** Callers holding any of these roles may see and complete it (none: any caller of the tenant). */
  readonly roles: readonly string[];
  /** A caller id the task is assigned to (it may see and complete it whatever its roles). */
  readonly assignee: string | null;
  /** JSON Schema the answer must pass (`POST /v1/tasks/{id}/complete`). */
  readonly form: Record<string, unknown> | null;
  /** Key of this state's `after` map whose timer is the task's deadline (its transition is the escalation). */
  readonly deadlineAfter: string | null;
}

/** Lifecycle of a task row: open until its state is left; completed when left by the task's event. */
export type TaskStatus = 'open' | 'completed' | 'cancelled';

/** A task row (`sk_task`). */
export interface TaskRecord {
  /** `instanceId:stateNodeId:generation`: stable, unique per entry of the state. */
  readonly id: string;
  readonly instanceId: string;
  readonly tenant: string;
  readonly machineId: string;
  /** The state node id (`machine.path.to.state`). */
  readonly state: string;
  readonly title: string;
  readonly description: string | null;
  readonly event: string;
  readonly roles: readonly string[];
  readonly assignee: string | null;
  readonly form: Record<string, unknown> | null;
  readonly dueAt: Date | null;
  readonly status: TaskStatus;
  readonly claimedBy: string | null;
  readonly claimedAt: Date | null;
  readonly createdAt: Date;
  readonly closedAt: Date | null;
  /** Caller whose event closed it (null for timers, steps, stops). */
  readonly closedBy: string | null;
}

/** A task to open in a commit. */
export type NewTask = Pick<
  TaskRecord,
  'id' | 'tenant' | 'machineId' | 'state' | 'title' | 'description' | 'event' | 'roles' | 'assignee' | 'form' | 'dueAt'
>;

/** The task rows one commit writes: tasks to open, and the states whose open tasks it closes. */
export interface TaskChanges {
  readonly open: NewTask[];
  readonly close: { readonly state: string; readonly status: 'completed' | 'cancelled' }[];
  /** Recorded as `closedBy` of the closed tasks. */
  readonly actor: string | null;
}

/** No task rows to write. */
export const NO_TASK_CHANGES: TaskChanges = { open: [], close: [], actor: null };

/** True when a commit writes task rows. */
export function hasTaskChanges(t: TaskChanges | undefined): t is TaskChanges {
  return !!t && (t.open.length > 0 || t.close.length > 0);
}

const ROLE_RE = /^[A-Za-z0-9._:-]{1,100}$/;

/**
 * Reads `meta.task` of a state node. Returns `undefined` without one, a
 * problem (string) when it is malformed.
 */
export function taskSpecOf(node: AnyStateNode): TaskSpec | string | undefined {
  const t = (node.meta as { task?: unknown } | undefined)?.task;
  if (t === undefined) return undefined;
  if (!t || typeof t !== 'object' || Array.isArray(t)) return 'meta.task is an object';
  const o = t as Record<string, unknown>;
  const known = new Set(['title', 'description', 'event', 'role', 'roles', 'assignee', 'form', 'deadline']);
  const unknown = Object.keys(o).find((k) => !known.has(k));
  if (unknown) return `meta.task.${unknown} is not a task property (title, description, event, role(s), assignee, form, deadline)`;
  if (typeof o.title !== 'string' || !o.title.trim() || o.title.length > 200) return 'meta.task.title is a non-empty string (at most 200)';
  if (o.description !== undefined && typeof o.description !== 'string') return 'meta.task.description is a string';
  if (typeof o.event !== 'string' || !o.event) return 'meta.task.event names the event that completes the task';
  if (!node.on[o.event]) return `meta.task.event "${o.event}" is not handled by state "${node.id}" (add it under "on")`;
  const roles = o.roles ?? (o.role === undefined ? [] : [o.role]);
  if (!Array.isArray(roles) || !roles.every((r) => typeof r === 'string' && ROLE_RE.test(r)))
    return 'meta.task.role is a role name, meta.task.roles a list of them';
  if (o.assignee !== undefined && (typeof o.assignee !== 'string' || !o.assignee || o.assignee.length > 200))
    return 'meta.task.assignee is a caller id';
  if (o.form !== undefined && (!o.form || typeof o.form !== 'object' || Array.isArray(o.form)))
    return 'meta.task.form is a JSON Schema object';
  const badForm = o.form === undefined ? undefined : formProblem(o.form as Record<string, unknown>);
  if (badForm) return badForm;
  let deadlineAfter: string | null = null;
  if (o.deadline !== undefined) {
    const d = o.deadline as { after?: unknown } | null;
    const key = typeof d?.after === 'number' ? String(d.after) : d?.after;
    if (typeof key !== 'string' || !d || Object.keys(d).some((k) => k !== 'after'))
      return 'meta.task.deadline is { "after": <a key of this state\'s "after"> }';
    if (!node.config.after || !Object.hasOwn(node.config.after as object, key))
      return `meta.task.deadline.after "${key}" is not a delay of state "${node.id}": the escalation is that "after" transition`;
    deadlineAfter = key;
  }
  return {
    title: o.title,
    description: typeof o.description === 'string' ? o.description : null,
    event: o.event,
    roles: [...new Set(roles as string[])],
    assignee: typeof o.assignee === 'string' ? o.assignee : null,
    form: (o.form as Record<string, unknown> | undefined) ?? null,
    deadlineAfter,
  };
}

/** Every malformed `meta.task` of a machine, as `[state node id, problem]`. */
export function taskProblems(machine: AnyStateMachine): [string, string][] {
  const out: [string, string][] = [];
  const visit = (node: AnyStateNode) => {
    const spec = taskSpecOf(node);
    if (typeof spec === 'string') out.push([node.id, spec]);
    for (const child of Object.values(node.states)) visit(child);
  };
  visit(machine.root);
  return out;
}

/** The state nodes of a snapshot that declare a task (none once the instance is no longer active). */
export function taskNodes(snapshot: AnyMachineSnapshot): Map<string, TaskSpec> {
  const out = new Map<string, TaskSpec>();
  if (snapshot.status !== 'active') return out;
  for (const node of snapshot._nodes as AnyStateNode[]) {
    const spec = taskSpecOf(node);
    if (spec && typeof spec !== 'string') out.set(node.id, spec);
  }
  return out;
}

/** Facts a task diff needs besides the two snapshots. */
export interface TaskDiffContext {
  readonly instanceId: string;
  readonly tenant: string;
  readonly machineId: string;
  readonly generation: number;
  readonly now: Date;
  /** The event the transition took (a task whose event it is counts as completed). */
  readonly eventType: string;
  readonly actor: string | null;
  /** The commit's new effects: a deadline's due time is that of its `after` timer. */
  readonly newEffects: readonly NewEffect[];
}

/**
 * The task rows a transition writes: tasks of states entered are opened,
 * tasks of states left are closed (`completed` when left by the task's own
 * event, else `cancelled`: an escalation, an override, a stop).
 *
 * @remarks A state left and entered again in one transition (a self
 * transition with `reenter`) keeps its open task.
 */
export function diffTasks(before: AnyMachineSnapshot | undefined, after: AnyMachineSnapshot, ctx: TaskDiffContext): TaskChanges {
  const was = before ? taskNodes(before) : new Map<string, TaskSpec>();
  const now = taskNodes(after);
  const open: NewTask[] = [];
  for (const [state, spec] of now) {
    if (was.has(state)) continue;
    const timerName = spec.deadlineAfter === null ? undefined : `xstate.after.${spec.deadlineAfter}.${state}`;
    const timer = timerName ? ctx.newEffects.find((e) => e.kind === 'timer' && e.name === timerName) : undefined;
    open.push({
      id: `${ctx.instanceId}:${state}:${ctx.generation}`,
      tenant: ctx.tenant,
      machineId: ctx.machineId,
      state,
      title: spec.title,
      description: spec.description,
      event: spec.event,
      roles: spec.roles,
      assignee: spec.assignee,
      form: spec.form,
      dueAt: timer?.dueAt ?? null,
    });
  }
  const close = [...was]
    .filter(([state]) => !now.has(state))
    .map(([state, spec]) => ({ state, status: spec.event === ctx.eventType ? ('completed' as const) : ('cancelled' as const) }));
  return { open, close, actor: ctx.actor };
}

/** Filters of {@link InstanceStore.listTasks}; only open tasks are listed. */
export interface TaskFilter {
  readonly tenant: string;
  /** The caller: tasks it may see are those with no roles, a role it holds, or assigned to or claimed by it. */
  readonly caller?: { readonly id: string; readonly roles: readonly string[] };
  /** Tasks requiring this role. */
  readonly role?: string;
  /** Tasks assigned to (or claimed by) this caller id. */
  readonly assignee?: string;
  readonly machineId?: string;
  readonly instanceId?: string;
  /** True: only tasks past their due time at `now`; false: only the others. */
  readonly overdue?: boolean;
  readonly now: Date;
  /** Position after which to continue (oldest first: createdAt, id). */
  readonly after?: { readonly createdAt: Date; readonly id: string };
  readonly limit: number;
}

/** True when `caller` may see and act on the task. */
export function mayActOn(
  task: Pick<TaskRecord, 'roles' | 'assignee' | 'claimedBy'>,
  caller: { id: string; roles: readonly string[] },
): boolean {
  if (task.assignee === caller.id || task.claimedBy === caller.id) return true;
  if (task.assignee !== null) return false;
  return task.roles.length === 0 || task.roles.some((r) => caller.roles.includes(r));
}

/** True when the task matches a filter (the memory store's version of the Postgres query). */
export function matchesTask(t: TaskRecord, f: TaskFilter): boolean {
  return (
    t.status === 'open' &&
    t.tenant === f.tenant &&
    (!f.caller || mayActOn(t, f.caller)) &&
    (!f.role || t.roles.includes(f.role)) &&
    (!f.assignee || t.assignee === f.assignee || t.claimedBy === f.assignee) &&
    (!f.machineId || t.machineId === f.machineId) &&
    (!f.instanceId || t.instanceId === f.instanceId) &&
    (f.overdue === undefined || (t.dueAt !== null && t.dueAt <= f.now) === f.overdue) &&
    (!f.after || t.createdAt > f.after.createdAt || (t.createdAt.getTime() === f.after.createdAt.getTime() && t.id > f.after.id))
  );
}

/**
 * Refuses an event that completes an active task with an answer failing the
 * task's form, whatever the entry point (the task route or a plain event):
 * `answer_invalid` with every problem, before anything is decided.
 */
export function checkTaskAnswer(snapshot: AnyMachineSnapshot, event: { type: string; answer?: unknown }): void {
  for (const [state, spec] of taskNodes(snapshot)) {
    if (spec.event !== event.type || !spec.form) continue;
    const issues = checkAnswer(spec.form, event.answer ?? null);
    if (issues.length)
      throw new RuntimeError(
        'answer_invalid',
        `The answer to the task of state "${state}" does not match its form: ${issues[0]!.path || '(answer)'} ${issues[0]!.message}.`,
        { state, issues },
      );
  }
}
