import type { CreateRequest } from '../../runtime/ports.ts';
import type { NewTask } from '../../runtime/tasks.ts';
import { ts } from './sql-values.ts';

/** New effects as the batch statements read them (jsonb_to_recordset), or null when there are none. */
export const effectJson = (effects: CreateRequest['newEffects']) =>
  effects.length ? effects.map((e) => ({ ...e, dueAt: ts(e.dueAt), leaseUntil: ts(e.leaseUntil) })) : null;

/** Human tasks as the batch statements read them. */
export const taskJson = (tasks: NewTask[]) => tasks.map((t) => ({ ...t, dueAt: ts(t.dueAt) }));
