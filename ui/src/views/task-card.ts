/**
 * One open human task: what it asks, who may act and by when, a claim button,
 * and the answer (JSON, checked by the API against the task's form) with a
 * complete button. Used by the instance view and the task inbox.
 */
import { h, replace, timeText } from '../dom.ts';
import type { Task } from '../api.ts';
import type { Actions } from './view.ts';

/** The fields of a task both the instance view and the inbox have. */
export type TaskSummary = Pick<Task, 'id' | 'title' | 'event' | 'roles' | 'assignee' | 'claimedBy' | 'dueAt'> & { overdue?: boolean };

/** A card for `task`; `instanceId` refreshes that instance after a claim or completion. */
export function taskCard(task: TaskSummary, actions: Actions, instanceId?: string): HTMLElement {
  const answer = h('textarea', {
    class: 'payload',
    rows: 3,
    spellcheck: 'false',
    'aria-label': `Answer to "${task.title}" (JSON)`,
    'data-testid': 'task-answer',
  });
  answer.value = '{}';
  const form = h('pre', { class: 'json' }, 'Loading the form…');
  const details = h('details', { 'data-testid': 'task-form' }, h('summary', null, 'Answer form (JSON Schema)'), form);
  // The form is loaded when first opened: the instance view lists tasks without their forms.
  details.addEventListener(
    'toggle',
    () => {
      actions.task(task.id).then(
        (t) => {
          form.textContent = t.form ? JSON.stringify(t.form, null, 2) : 'Any answer.';
          if (answer.value === '{}' && t.form) answer.value = JSON.stringify(skeleton(t.form), null, 2);
        },
        (e: Error) => replace(form, h('span', { class: 'error' }, e.message)),
      );
    },
    { once: true },
  );
  const complete = h(
    'button',
    {
      type: 'button',
      'data-testid': 'task-complete',
      onclick: () => {
        let value: unknown;
        try {
          value = JSON.parse(answer.value.trim() || 'null');
        } catch {
          answer.setCustomValidity('not JSON');
          answer.reportValidity();
          return;
        }
        answer.setCustomValidity('');
        complete.disabled = true;
        void actions.completeTask(task.id, value, instanceId).then((ok) => {
          complete.disabled = ok;
        });
      },
    },
    'Complete',
  );
  const claim = h(
    'button',
    { type: 'button', 'data-testid': 'task-claim', onclick: () => void actions.claimTask(task.id, instanceId) },
    task.claimedBy ? 'Claimed' : 'Claim',
  );
  claim.disabled = task.claimedBy !== null;
  const who = task.assignee ? `assigned to ${task.assignee}` : task.roles.length ? `role ${task.roles.join(' or ')}` : 'anyone';
  return h(
    'div',
    { class: `task${task.overdue ? ' overdue' : ''}`, 'data-task': task.id },
    h('strong', { 'data-testid': 'task-title' }, task.title),
    h(
      'p',
      { class: 'hint' },
      who,
      task.dueAt ? ` · due ${timeText(task.dueAt)}` : '',
      task.overdue ? ' · overdue' : '',
      task.claimedBy ? ` · claimed by ${task.claimedBy}` : '',
      ' · sends ',
      h('code', null, task.event),
    ),
    details,
    answer,
    h('div', { class: 'row' }, claim, complete),
  );
}

/** A starting answer for a JSON Schema object form: its required fields with empty values of their types. */
function skeleton(form: unknown): unknown {
  const f = form as { type?: string; properties?: Record<string, { type?: string }>; required?: string[] };
  if (f.type !== 'object' || !f.properties) return {};
  const empty: Record<string, unknown> = { string: '', integer: 0, number: 0, boolean: false, array: [], object: {} };
  return Object.fromEntries((f.required ?? []).map((k) => [k, empty[f.properties?.[k]?.type ?? ''] ?? null]));
}
