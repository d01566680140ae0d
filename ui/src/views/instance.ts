/**
 * One instance: its statechart with the current state(s) highlighted, the
 * events it accepts now (with a payload form), retry and cancel, its steps
 * and its history; kept current by the live stream.
 */
import { h, replace, stateText, timeText, valueText } from '../dom.ts';
import { renderDiagram, type RenderedDiagram } from '../diagram.ts';
import type { HistoryEntry, Instance } from '../api.ts';
import type { DashboardContext } from '../store.ts';
import { badgeClass, type Actions, type View } from './view.ts';
import { taskCard } from './task-card.ts';

/** Mounts the instance view into `root`. */
export function mountInstanceView(root: HTMLElement, id: string, actions: Actions): View {
  const title = h('h2', null, id);
  const status = h('span', { class: 'badge', 'data-testid': 'workflow-status' });
  const live = h('span', { class: 'live', 'data-testid': 'live' });
  const summary = h('p', { class: 'summary', 'data-testid': 'state' });
  const diagram = h('div', { class: 'diagram', 'data-testid': 'diagram' }, 'Loading the statechart…');
  const buttons = h('div', { class: 'event-buttons', 'data-testid': 'accepted-events' });
  const payload = h('textarea', {
    class: 'payload',
    rows: 3,
    spellcheck: 'false',
    'aria-label': 'Event payload (JSON object)',
    'data-testid': 'payload',
  });
  payload.value = '{}';
  const reason = h('input', {
    type: 'text',
    placeholder: 'reason (optional)',
    'aria-label': 'Cancel reason',
    'data-testid': 'cancel-reason',
  });
  const retry = h('button', { type: 'button', 'data-testid': 'retry', onclick: () => void actions.retry(id) }, 'Retry');
  const cancel = h(
    'button',
    { type: 'button', class: 'danger', 'data-testid': 'cancel', onclick: () => void actions.cancel(id, reason.value.trim()) },
    'Cancel',
  );
  const steps = h('div', { class: 'steps', 'data-testid': 'steps' });
  const tasks = h('div', { class: 'tasks', 'data-testid': 'tasks' });
  const history = h('ol', { class: 'timeline', 'data-testid': 'history' });
  const context = h('pre', { class: 'json' });

  replace(
    root,
    h(
      'section',
      { class: 'instance' },
      h('div', { class: 'heading' }, title, status, live),
      summary,
      h(
        'div',
        { class: 'columns' },
        diagram,
        h(
          'aside',
          null,
          h('h3', null, 'Open tasks'),
          tasks,
          h('h3', null, 'Send an event'),
          h('p', { class: 'hint' }, 'Events the current state accepts. The payload fields are sent with the event type.'),
          buttons,
          payload,
          h('div', { class: 'row' }, retry, reason, cancel),
          h('h3', null, 'Steps'),
          steps,
        ),
      ),
      h('h3', null, 'History'),
      history,
      h('details', null, h('summary', null, 'Context, output and error'), context),
    ),
  );

  let shown: Instance | null = null;
  let shownHistory: HistoryEntry[] | null = null;
  let chart: RenderedDiagram | undefined;
  let chartRef: string | undefined;
  let destroyed = false;

  const send = (type: string) => {
    let fields: unknown;
    try {
      fields = JSON.parse(payload.value.trim() || '{}');
    } catch {
      payload.setCustomValidity('not JSON');
      payload.reportValidity();
      return;
    }
    if (!fields || typeof fields !== 'object' || Array.isArray(fields)) {
      payload.setCustomValidity('a JSON object, e.g. {"reason": "…"}');
      payload.reportValidity();
      return;
    }
    payload.setCustomValidity('');
    void actions.sendEvent(id, type, fields as Record<string, unknown>);
  };

  const drawChart = async (instance: Instance) => {
    const ref = `${instance.machine.id}@${instance.machine.version}`;
    if (chartRef === ref) return chart?.highlight(instance.state);
    chartRef = ref;
    try {
      const text = await actions.diagram(ref);
      if (destroyed) return;
      chart = await renderDiagram(diagram, ref, text);
      // The instance may have moved on while Mermaid drew.
      chart.highlight(shown?.state ?? instance.state);
    } catch (e) {
      replace(diagram, h('p', { class: 'error' }, `The statechart could not be drawn: ${(e as Error).message}`));
    }
  };

  // Cards are kept across refreshes (each change reloads the instance), so an answer being typed is not lost.
  const cards = new Map<string, HTMLElement>();
  const renderTasks = (i: Instance) => {
    const keyOf = (t: Instance['tasks'][number]) => `${t.id}|${t.claimedBy ?? ''}`;
    const next = new Map(i.tasks.map((t) => [keyOf(t), cards.get(keyOf(t)) ?? taskCard(t, actions, i.id)]));
    cards.clear();
    for (const [k, card] of next) cards.set(k, card);
    replace(tasks, next.size ? [...next.values()] : h('span', { class: 'hint' }, 'none'));
  };

  const renderInstance = (i: Instance) => {
    replace(title, `${i.machine.id}@${i.machine.version} · `, h('code', null, i.id));
    status.className = badgeClass(i.workflow.status);
    status.textContent = i.workflow.status;
    replace(
      summary,
      'State ',
      h('code', null, stateText(i.state)),
      ` · instance ${i.status} · version ${i.version} · updated ${timeText(i.updatedAt)}`,
    );
    replace(
      buttons,
      i.acceptedEvents.length
        ? i.acceptedEvents.map((e) =>
            h(
              'button',
              {
                type: 'button',
                'data-event': e.type,
                title: e.roles ? `needs role ${e.roles.join(' or ')}` : null,
                onclick: () => send(e.type),
              },
              e.type,
            ),
          )
        : h('span', { class: 'hint' }, 'none now'),
    );
    retry.disabled = !i.acceptedEvents.some((e) => e.type === 'operator.retry');
    cancel.disabled = i.status !== 'active';
    renderSteps(steps, i);
    renderTasks(i);
    context.textContent = JSON.stringify(
      { context: i.context, output: i.output, error: i.error, children: i.children, timers: i.timers },
      null,
      2,
    );
    void drawChart(i);
  };

  return {
    update(ctx: DashboardContext) {
      live.textContent = ctx.live === 'off' ? '' : `● ${ctx.live}`;
      live.className = `live live-${ctx.live}`;
      if (ctx.instance && ctx.instance !== shown) {
        shown = ctx.instance;
        renderInstance(ctx.instance);
      }
      if (ctx.history !== shownHistory) {
        shownHistory = ctx.history;
        replace(history, ctx.history.map(historyItem));
      }
    },
    destroy() {
      destroyed = true;
    },
  };
}

/** One history row: sequence, time, event, where it came from and who sent it, the state it led to. */
function historyItem(e: HistoryEntry): HTMLElement {
  return h(
    'li',
    { 'data-seq': e.seq, class: e.handled ? null : 'unhandled' },
    h('span', { class: 'seq' }, `#${e.seq}`),
    h('time', { datetime: e.createdAt }, timeText(e.createdAt)),
    h('code', { class: 'event' }, e.type),
    h('span', { class: 'source' }, e.source),
    e.actor ? h('span', { class: 'actor', title: 'actor' }, e.actor) : null,
    h('span', { class: 'arrow' }, '→'),
    h('code', { class: 'to' }, stateText(e.state)),
  );
}

/** The workflow's steps as operators track them (sagas), else the raw step invocations. */
function renderSteps(el: HTMLElement, i: Instance): void {
  if (i.workflow.steps.length) {
    replace(
      el,
      h(
        'table',
        null,
        h('thead', null, h('tr', null, h('th', null, 'step'), h('th', null, 'status'), h('th', null, 'attempts'), h('th', null, 'error'))),
        h(
          'tbody',
          null,
          i.workflow.steps.map((s) =>
            h(
              'tr',
              { 'data-step': s.step },
              h('td', null, s.step),
              h('td', null, h('span', { class: badgeClass(s.status) }, s.status)),
              h('td', null, s.compensationAttempts ? `${s.attempts} + ${s.compensationAttempts} undo` : String(s.attempts)),
              h('td', { class: 'error' }, valueText(s.compensation?.error ?? s.error ?? s.lastError) || s.resolution || ''),
            ),
          ),
        ),
      ),
    );
    return;
  }
  if (!i.steps.length) {
    replace(el, h('p', { class: 'hint' }, 'No steps yet.'));
    return;
  }
  replace(
    el,
    h(
      'table',
      null,
      h('thead', null, h('tr', null, h('th', null, 'invoke'), h('th', null, 'status'), h('th', null, 'attempts'), h('th', null, 'error'))),
      h(
        'tbody',
        null,
        i.steps.map((s) =>
          h(
            'tr',
            { 'data-step': s.name },
            h('td', null, s.step ? `${s.name} (${s.step})` : s.name),
            h('td', null, h('span', { class: badgeClass(s.status) }, s.status)),
            h('td', null, String(s.attempts)),
            h('td', { class: 'error' }, valueText(s.error ?? s.lastError)),
          ),
        ),
      ),
    ),
  );
}
