/**
 * The human-task inbox: list, claim, unclaim and complete. Completing a task
 * checks the answer against its form, then sends the task's event through the
 * ordinary engine loop: the task row is closed by that event's commit, never
 * written apart from it. Claims only set who works on an open task.
 */
import { publicId, storedId } from './instance-ids.ts';
import type { EventObject } from 'xstate';
import { RuntimeError } from './errors.ts';
import type { Clock, InstanceStore } from './ports.ts';
import { checkAnswer } from './task-forms.ts';
import { mayActOn, type TaskRecord } from './tasks.ts';
import type { ApplyFn } from './transition.ts';
import type { SendResult } from './types.ts';
import { decodeCursor, encodeCursor } from './views.ts';

/** Who acts on a task. */
export interface TaskCaller {
  readonly id: string;
  readonly roles: readonly string[];
}

/** Options of every task operation; `caller` absent means a trusted caller (code, not a request). */
export interface TaskOptions {
  readonly tenant?: string;
  readonly caller?: TaskCaller;
}

/** Options of {@link TaskOperations.list}. */
export interface TaskListOptions extends TaskOptions {
  readonly role?: string;
  readonly assignee?: string;
  readonly machineId?: string;
  readonly overdue?: boolean;
  readonly limit?: number;
  /** `nextCursor` of the previous page. */
  readonly cursor?: string;
}

/** A task as callers see it, with whether it is past its due time. */
export interface TaskView extends TaskRecord {
  readonly overdue: boolean;
}

const ANSWER_LIMIT = 64_000;

/** Task reads and commands of one runtime. */
export class TaskOperations {
  constructor(private readonly o: { store: InstanceStore; clock: Clock; apply: ApplyFn }) {}

  /** Open tasks the caller may act on, oldest first, with cursor pagination. */
  async list(options: TaskListOptions = {}): Promise<{ items: TaskView[]; nextCursor: string | null }> {
    const limit = options.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > 500)
      throw RuntimeError.invalidArgument('tasks', 'limit must be an integer from 1 to 500');
    const now = this.o.clock.now();
    const rows = await this.o.store.listTasks({
      tenant: options.tenant ?? 'default',
      caller: options.caller,
      role: options.role,
      assignee: options.assignee,
      machineId: options.machineId,
      overdue: options.overdue,
      now,
      after: options.cursor ? decodeCursor(options.cursor, 'tasks') : undefined,
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return { items: page.map((t) => this.view(t, now)), nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
  }

  /** One task (open or closed) the caller may see. */
  async get(id: string, options: TaskOptions = {}): Promise<TaskView> {
    return this.view(await this.visible(id, options), this.o.clock.now());
  }

  /** Claims an open task for the caller; claiming one's own claim again changes nothing. */
  async claim(id: string, options: TaskOptions & { caller: TaskCaller }): Promise<TaskView> {
    const task = await this.open(id, options);
    if (task.claimedBy !== options.caller.id) {
      if (task.claimedBy !== null) throw claimed(task);
      if (!(await this.o.store.claimTask(task.id, null, options.caller.id, this.o.clock.now()))) return this.conflict(id, options);
    }
    return this.get(id, options);
  }

  /** Gives a claimed task back (only its claimant); an unclaimed task stays so. */
  async unclaim(id: string, options: TaskOptions & { caller: TaskCaller }): Promise<TaskView> {
    const task = await this.open(id, options);
    if (task.claimedBy !== null) {
      if (task.claimedBy !== options.caller.id) throw claimed(task);
      if (!(await this.o.store.claimTask(task.id, options.caller.id, null, this.o.clock.now()))) return this.conflict(id, options);
    }
    return this.get(id, options);
  }

  /**
   * Completes a task: the answer must pass the task's form (`answer_invalid`
   * with every problem, nothing sent otherwise); then the task's event is
   * sent as `{ type, taskId, answer }` and its commit closes the task.
   */
  async complete(
    id: string,
    answer: unknown,
    options: TaskOptions & { idempotencyKey?: string },
  ): Promise<{ task: TaskView; result: SendResult }> {
    const task = await this.visible(id, options);
    if (task.status !== 'open') {
      // A repeated completion under the same key answers with the first one.
      if (options.idempotencyKey) {
        const prior = await this.o.store.eventByIdempotencyKey(task.instanceId, options.idempotencyKey);
        if (prior) return { task: await this.get(id, options), result: await this.replay(task, prior.handled) };
      }
      throw closed(task);
    }
    if (task.claimedBy !== null && options.caller && task.claimedBy !== options.caller.id) throw claimed(task);
    if (JSON.stringify(answer ?? null).length > ANSWER_LIMIT)
      throw new RuntimeError('answer_invalid', `The answer to task "${id}" is larger than ${ANSWER_LIMIT} JSON characters.`, {
        taskId: id,
        issues: [{ path: '', message: `at most ${ANSWER_LIMIT} JSON characters` }],
      });
    const issues = checkAnswer(task.form, answer ?? null);
    if (issues.length)
      throw new RuntimeError(
        'answer_invalid',
        `The answer to task "${id}" does not match its form: ${issues[0]!.path || '(answer)'} ${issues[0]!.message}.`,
        { taskId: id, issues },
      );
    const event = { type: task.event, taskId: id, ...(answer === undefined ? {} : { answer }) } as EventObject;
    const caller = options.caller ? { id: options.caller.id, roles: options.caller.roles } : undefined;
    const result = await this.o.apply(task.instanceId, event, {
      source: 'api',
      tenant: options.tenant,
      caller,
      idempotencyKey: options.idempotencyKey,
    });
    // The state moved on between the read and the send (another completion, a deadline): nothing was stored.
    if (!result.handled && !result.duplicate) throw closed(task);
    return { task: await this.get(id, options), result };
  }

  /** A task as its tenant sees it: its id and its instance's by their public ids (see `instance-ids.ts`). */
  private view(t: TaskRecord, now: Date): TaskView {
    const ids = { id: publicId(t.tenant, t.id), instanceId: publicId(t.tenant, t.instanceId) };
    return { ...t, ...ids, overdue: t.status === 'open' && t.dueAt !== null && t.dueAt <= now };
  }

  /** The task if it exists in the caller's tenant and the caller may act on it. */
  private async visible(id: string, options: TaskOptions): Promise<TaskRecord> {
    if (typeof id !== 'string' || !id || id.length > 800) throw RuntimeError.invalidArgument('tasks', 'a task id is a non-empty string');
    // A task id starts with its instance's id: the tenant's qualified form first, then (older rows) as given.
    const tenant = options.tenant;
    const scoped = tenant === undefined ? undefined : await this.o.store.getTask(storedId(tenant, id));
    const task = scoped?.tenant === tenant && scoped ? scoped : await this.o.store.getTask(id);
    if (!task || (tenant !== undefined && task.tenant !== tenant)) throw notFound(id);
    if (options.caller && !mayActOn(task, options.caller))
      throw new RuntimeError(
        'task_not_allowed',
        `Task "${id}" is for ${task.assignee ? `"${task.assignee}"` : `the roles ${task.roles.join(', ')}`}; the caller has none of them.`,
        { taskId: id, roles: [...task.roles], assignee: task.assignee },
      );
    return task;
  }

  private async open(id: string, options: TaskOptions): Promise<TaskRecord> {
    const task = await this.visible(id, options);
    if (task.status !== 'open') throw closed(task);
    return task;
  }

  /** A claim lost a race: report what the task is now. */
  private async conflict(id: string, options: TaskOptions): Promise<never> {
    const now = await this.visible(id, options);
    throw now.status === 'open' ? claimed(now) : closed(now);
  }

  private async replay(task: TaskRecord, handled: boolean): Promise<SendResult> {
    const r = await this.o.store.get(task.instanceId);
    return {
      instanceId: publicId(task.tenant, task.instanceId),
      handled,
      duplicate: true,
      value: r?.stateValue ?? null,
      status: r?.status ?? 'active',
      tags: r?.tags ?? [],
      version: r?.version ?? 0,
    };
  }
}

function notFound(id: string): RuntimeError {
  return new RuntimeError('task_not_found', `Task "${id}" does not exist (or belongs to another tenant).`, { taskId: id });
}

function closed(t: TaskRecord): RuntimeError {
  return new RuntimeError(
    'task_closed',
    `Task "${t.id}" is ${t.status === 'open' ? 'no longer waiting' : t.status}; nothing was changed.`,
    {
      taskId: t.id,
      status: t.status,
    },
  );
}

function claimed(t: TaskRecord): RuntimeError {
  return new RuntimeError('task_claimed', `Task "${t.id}" is claimed by "${t.claimedBy}"; they can unclaim it.`, {
    taskId: t.id,
    claimedBy: t.claimedBy,
  });
}
