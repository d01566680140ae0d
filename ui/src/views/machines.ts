/** The registered machines: each one's statechart, states and the events they take, and a form to start an instance. */
import { h, replace } from '../dom.ts';
import { renderDiagram } from '../diagram.ts';
import type { Machine, MachineSummary } from '../api.ts';
import type { DashboardContext } from '../store.ts';
import { routeHash } from '../store.ts';
import type { Actions, View } from './view.ts';

/** Mounts the machines view into `root` (`id`: the machine shown, if any). */
export function mountMachinesView(root: HTMLElement, id: string | undefined, actions: Actions): View {
  const nav = h('ul', { class: 'machine-list', 'data-testid': 'machine-list' });
  const detail = h(
    'div',
    { class: 'machine-detail' },
    id ? 'Loading…' : h('p', { class: 'hint' }, 'Pick a machine to see its statechart.'),
  );
  replace(root, h('section', { class: 'machines' }, h('h2', null, 'Machines'), h('div', { class: 'split' }, nav, detail)));

  let machines: MachineSummary[] | null = null;
  let shown: Machine | null = null;
  let destroyed = false;
  return {
    update(ctx: DashboardContext) {
      if (ctx.machines !== machines) {
        machines = ctx.machines;
        replace(
          nav,
          ctx.machines.map((m) =>
            h(
              'li',
              { class: m.id === id ? 'selected' : null },
              h('a', { href: routeHash({ view: 'machines', id: m.id }) }, m.id),
              m.description ? h('small', null, m.description) : null,
            ),
          ),
        );
      }
      if (ctx.machine && ctx.machine !== shown && ctx.machine.id === id) {
        shown = ctx.machine;
        void renderMachine(detail, ctx.machine, actions, () => destroyed);
      }
    },
    destroy() {
      destroyed = true;
    },
  };
}

async function renderMachine(el: HTMLElement, machine: Machine, actions: Actions, destroyed: () => boolean): Promise<void> {
  const latest = machine.versions.find((v) => v.version === machine.latestVersion) ?? machine.versions.at(-1)!;
  const chart = h('div', { class: 'diagram', 'data-testid': 'diagram' }, 'Drawing…');
  const input = h('textarea', { rows: 6, spellcheck: 'false', 'aria-label': 'Start input (JSON)', 'data-testid': 'start-input' });
  input.value = '{}';
  const start = () => {
    let value: unknown;
    try {
      value = JSON.parse(input.value.trim() || 'null');
    } catch {
      input.setCustomValidity('not JSON');
      input.reportValidity();
      return;
    }
    input.setCustomValidity('');
    void actions.start(latest.ref, value);
  };
  replace(
    el,
    h('h3', null, latest.ref),
    latest.description ? h('p', null, latest.description) : null,
    chart,
    h('h4', null, 'Start an instance'),
    h('p', { class: 'hint' }, 'The input, as JSON', latest.inputSchema ? ' (its schema is below)' : '', '.'),
    input,
    h('div', { class: 'row' }, h('button', { type: 'button', 'data-testid': 'start', onclick: start }, `Start ${latest.ref}`)),
    latest.inputSchema
      ? h('details', null, h('summary', null, 'Input schema'), h('pre', { class: 'json' }, JSON.stringify(latest.inputSchema, null, 2)))
      : null,
    h('h4', null, 'States'),
    h(
      'table',
      { class: 'states' },
      h('thead', null, h('tr', null, h('th', null, 'state'), h('th', null, 'type'), h('th', null, 'events'), h('th', null, 'steps'))),
      h(
        'tbody',
        null,
        latest.states.map((s) =>
          h(
            'tr',
            null,
            h('td', null, h('code', null, s.path)),
            h('td', null, s.type),
            h('td', null, s.events.map((e) => (e.roles ? `${e.type} (${e.roles.join(', ')})` : e.type)).join(', ')),
            h('td', null, s.steps.join(', ')),
          ),
        ),
      ),
    ),
  );
  try {
    const text = await actions.diagram(latest.ref);
    if (!destroyed()) await renderDiagram(chart, latest.ref, text);
  } catch (e) {
    replace(chart, h('p', { class: 'error' }, `The statechart could not be drawn: ${(e as Error).message}`));
  }
}
