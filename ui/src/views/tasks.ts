/** The task inbox: open tasks the key may act on across instances, filtered by role, assignee and machine. */
import { h, replace } from '../dom.ts';
import type { Task } from '../api.ts';
import type { DashboardContext } from '../store.ts';
import { routeHash } from '../store.ts';
import { taskCard } from './task-card.ts';
import type { Actions, View } from './view.ts';

/** Mounts the inbox into `root`. */
export function mountTasksView(root: HTMLElement, actions: Actions, ctx: DashboardContext): View {
  const field = (name: 'role' | 'assignee' | 'machine', placeholder: string) => {
    const input = h('input', { name, type: 'search', placeholder, 'data-testid': `task-filter-${name}` });
    input.value = ctx.taskFilters[name];
    // Typing waits for a pause before it filters, so each key press does not cost a request.
    let typing: ReturnType<typeof setTimeout> | undefined;
    input.addEventListener('input', () => {
      clearTimeout(typing);
      typing = setTimeout(() => actions.setTaskFilters({ [name]: input.value.trim() }), 250);
    });
    return input;
  };
  const list = h('div', { class: 'tasks', 'data-testid': 'task-list' });
  replace(
    root,
    h(
      'section',
      null,
      h('h2', null, 'Tasks'),
      h('p', { class: 'hint' }, 'Open tasks this key may act on: its roles, assigned to it or claimed by it. Oldest first.'),
      h('div', { class: 'filters' }, field('role', 'role'), field('assignee', 'assignee'), field('machine', 'machine')),
      list,
    ),
  );
  let shown: Task[] | null = null;
  return {
    update(next) {
      if (next.tasks === shown) return;
      shown = next.tasks;
      replace(
        list,
        next.tasks.length
          ? next.tasks.map((t) =>
              h(
                'article',
                { class: 'task-row' },
                h('a', { href: routeHash({ view: 'instance', id: t.instanceId }) }, `${t.machine} · ${t.instanceId}`),
                taskCard(t, actions),
              ),
            )
          : h('p', { class: 'hint', 'data-testid': 'no-tasks' }, 'No open task matches.'),
      );
    },
  };
}
