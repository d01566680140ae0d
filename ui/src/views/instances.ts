/** The instance list: filters, live counts by machine and status, the newest instances. */
import { h, replace, stateText, timeText } from '../dom.ts';
import type { InstanceSummary, MachineSummary, Stats } from '../api.ts';
import type { DashboardContext } from '../store.ts';
import { routeHash } from '../store.ts';
import { badgeClass, type Actions, type View } from './view.ts';

const STATUSES = ['active', 'done', 'error', 'stopped'] as const;

/** Mounts the instance list into `root`. */
export function mountInstancesView(root: HTMLElement, actions: Actions, ctx: DashboardContext): View {
  const machine = h('select', {
    name: 'machine',
    'data-testid': 'filter-machine',
    onchange: () => actions.setFilters({ machine: machine.value }),
  });
  const status = h(
    'select',
    { name: 'status', 'data-testid': 'filter-status', onchange: () => actions.setFilters({ status: status.value }) },
    h('option', { value: '' }, 'any status'),
    STATUSES.map((s) => h('option', { value: s }, s)),
  );
  const state = h('input', { name: 'state', type: 'search', placeholder: 'state or tag', 'data-testid': 'filter-state' });
  // Typing waits for a pause before it filters, so each key press does not cost a request.
  let typing: ReturnType<typeof setTimeout> | undefined;
  state.addEventListener('input', () => {
    clearTimeout(typing);
    typing = setTimeout(() => actions.setFilters({ state: state.value.trim() }), 250);
  });
  status.value = ctx.filters.status;
  state.value = ctx.filters.state;
  const counts = h('div', { class: 'counts', 'data-testid': 'counts' });
  const list = h('tbody', { 'data-testid': 'instance-rows' });
  const empty = h('p', { class: 'hint', hidden: true }, 'No instance matches.');

  replace(
    root,
    h(
      'section',
      null,
      h('h2', null, 'Instances'),
      h(
        'form',
        { class: 'filters', onsubmit: (e) => e.preventDefault() },
        h('label', null, 'Machine ', machine),
        h('label', null, 'Status ', status),
        h('label', null, 'State ', state),
        h(
          'button',
          {
            type: 'button',
            onclick: () => {
              machine.value = status.value = state.value = '';
              actions.setFilters({ machine: '', status: '', state: '' });
            },
          },
          'Clear',
        ),
      ),
      h('h3', null, 'Counts ', h('small', { class: 'hint' }, '(all instances of this tenant, refreshed live)')),
      counts,
      h('h3', null, 'Newest first'),
      h(
        'table',
        { class: 'list' },
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            h('th', null, 'instance'),
            h('th', null, 'machine'),
            h('th', null, 'status'),
            h('th', null, 'state'),
            h('th', null, 'updated'),
          ),
        ),
        list,
      ),
      empty,
    ),
  );

  let machines: MachineSummary[] | null = null;
  let stats: Stats | null = null;
  let instances: InstanceSummary[] | null = null;
  return {
    update(c) {
      if (c.machines !== machines) {
        machines = c.machines;
        replace(
          machine,
          h('option', { value: '' }, 'any machine'),
          c.machines.map((m) => h('option', { value: m.id }, m.id)),
        );
        machine.value = c.filters.machine;
      }
      if (c.stats !== stats && c.stats) {
        stats = c.stats;
        renderCounts(counts, c.stats);
      }
      if (c.instances !== instances) {
        instances = c.instances;
        empty.hidden = c.instances.length > 0;
        replace(
          list,
          c.instances.map((i) =>
            h(
              'tr',
              { 'data-instance': i.id },
              h('td', null, h('a', { href: routeHash({ view: 'instance', id: i.id }) }, i.id)),
              h('td', null, `${i.machine.id}@${i.machine.version}`),
              h('td', null, h('span', { class: badgeClass(i.status) }, i.status)),
              h('td', null, h('code', null, stateText(i.state))),
              h('td', null, timeText(i.updatedAt)),
            ),
          ),
        );
      }
    },
    destroy: () => clearTimeout(typing),
  };
}

/** Instances by machine and status, with totals. */
function renderCounts(el: HTMLElement, stats: Stats): void {
  const byMachine = new Map<string, Record<string, number>>();
  for (const row of stats.instances) byMachine.set(row.machineId, { ...byMachine.get(row.machineId), [row.status]: row.count });
  if (byMachine.size === 0) {
    replace(el, h('p', { class: 'hint' }, 'No instances yet: start one from a machine’s page.'));
    return;
  }
  // Finished workflows by outcome (completed, rolled_back, cancelled, …), from the instances' outputs.
  const outcomes = new Map<string, string[]>();
  for (const o of stats.outcomes) outcomes.set(o.machineId, [...(outcomes.get(o.machineId) ?? []), `${o.outcome} ${o.count}`]);
  const total = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
  replace(
    el,
    h(
      'table',
      null,
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          h('th', null, 'machine'),
          STATUSES.map((s) => h('th', null, s)),
          h('th', null, 'total'),
          h('th', null, 'outcomes'),
        ),
      ),
      h(
        'tbody',
        null,
        [...byMachine.entries()]
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([id, r]) =>
            h(
              'tr',
              { 'data-machine': id },
              h('td', null, id),
              STATUSES.map((s) => h('td', { 'data-status': s }, String(r[s] ?? 0))),
              h('td', { 'data-status': 'total' }, String(total(r))),
              h('td', { 'data-outcomes': '' }, (outcomes.get(id) ?? []).join(', ')),
            ),
          ),
      ),
    ),
  );
}
