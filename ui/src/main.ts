/**
 * The dashboard's controller: reads the route and the key, loads what the
 * route needs through the public API into the store, follows the open
 * instance's event stream, and mounts the view for the route.
 */
import { ApiRequestError, createApiClient, type ApiClient } from './api.ts';
import { h, replace, stateText } from './dom.ts';
import { followInstance } from './live.ts';
import { createDashboardStore, parseRoute, routeHash, storedKey, storeKey, type DashboardContext, type Route } from './store.ts';
import { mountInstanceView } from './views/instance.ts';
import { mountInstancesView } from './views/instances.ts';
import { mountMachinesView } from './views/machines.ts';
import { mountTasksView } from './views/tasks.ts';
import type { Actions, View } from './views/view.ts';

/** How often the instance list and its counts are refreshed while shown. */
const LIST_REFRESH_MS = 2000;

const app = document.getElementById('app')!;
const banner = document.getElementById('banner')!;
const keyForm = document.getElementById('key-form') as HTMLFormElement;
const keyInput = document.getElementById('key-input') as HTMLInputElement;
const keyForget = document.getElementById('key-forget') as HTMLButtonElement;

const store = createDashboardStore({ key: storedKey(), route: parseRoute(location.hash) });
let api: ApiClient | null = store.getSnapshot().context.key ? createApiClient(store.getSnapshot().context.key!) : null;

const notify = (kind: 'error' | 'info', text: string) => store.trigger.noticed({ notice: { kind, text } });

/** Shows an API failure; a rejected key is forgotten so the user is asked again. */
function report(e: unknown): void {
  if (e instanceof ApiRequestError && e.status === 401) {
    setKey(null);
    notify('error', 'The API key was refused: enter a valid one.');
    return;
  }
  const text =
    e instanceof ApiRequestError
      ? `${e.message} (${e.code}${e.requestId ? `, request ${e.requestId}` : ''})`
      : String((e as Error)?.message ?? e);
  notify('error', text);
}

// ---- loading -------------------------------------------------------------

async function loadMachines(): Promise<void> {
  if (api) store.trigger.machinesLoaded({ machines: (await api.machines()).items });
}

async function loadList(): Promise<void> {
  if (!api) return;
  const { filters } = store.getSnapshot().context;
  const [list, stats] = await Promise.all([api.instances(filters), api.stats()]);
  // A filter changed while loading: that newer request's answer wins.
  if (store.getSnapshot().context.filters !== filters) return;
  store.trigger.instancesLoaded({ instances: list.items });
  store.trigger.statsLoaded({ stats });
}

/** Reloads the open instance and its history; calls during a reload are folded into one more reload. */
const refreshInstance = (() => {
  let running = false;
  let again = false;
  return async function refresh(id: string): Promise<void> {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        if (!api) return;
        const [instance, history] = await Promise.all([api.instance(id), api.history(id)]);
        store.trigger.instanceLoaded({ instance, history });
      } while (again);
    } finally {
      running = false;
    }
  };
})();

async function loadTasks(): Promise<void> {
  if (!api) return;
  const { taskFilters } = store.getSnapshot().context;
  const page = await api.tasks(taskFilters);
  if (store.getSnapshot().context.taskFilters !== taskFilters) return;
  store.trigger.tasksLoaded({ tasks: page.items });
}

// ---- what each route needs -------------------------------------------------

let following: { stop(): void } | undefined;
let polling: ReturnType<typeof setInterval> | undefined;

function enterRoute(route: Route): void {
  following?.stop();
  following = undefined;
  clearInterval(polling);
  polling = undefined;
  store.trigger.routed({ route });
  if (!api) return;
  const key = api.key;
  if (route.view === 'instances') {
    loadMachines().catch(report);
    loadList().catch(report);
    polling = setInterval(() => loadList().catch(() => undefined), LIST_REFRESH_MS);
  } else if (route.view === 'tasks') {
    loadTasks().catch(report);
    polling = setInterval(() => loadTasks().catch(() => undefined), LIST_REFRESH_MS);
  } else if (route.view === 'machines') {
    loadMachines().catch(report);
    if (route.id) api.machine(route.id).then((machine) => store.trigger.machineLoaded({ machine }), report);
  } else {
    const id = route.id;
    refreshInstance(id).catch(report);
    following = followInstance(id, key, {
      onStatus: (live) => store.trigger.liveChanged({ live }),
      // Each change reloads the instance (steps, accepted events) and its history.
      onEvent: () => void refreshInstance(id).catch(report),
    });
  }
}

// ---- commands --------------------------------------------------------------

const actions: Actions = {
  setFilters(filters) {
    store.trigger.filtersChanged({ filters });
    loadList().catch(report);
  },
  async sendEvent(id, type, payload) {
    if (!api) return;
    try {
      const r = await api.send(id, { ...payload, type });
      notify('info', `${type} applied: now ${stateText(r.state)}`);
      await refreshInstance(id);
    } catch (e) {
      report(e);
    }
  },
  async retry(id) {
    if (!api) return;
    try {
      const r = await api.retry(id);
      notify('info', r.handled ? `Retry sent: now ${stateText(r.state)}` : 'Nothing to retry.');
      await refreshInstance(id);
    } catch (e) {
      report(e);
    }
  },
  async cancel(id, reason) {
    if (!api) return;
    try {
      await api.cancel(id, reason || undefined);
      notify('info', 'Cancel requested.');
      await refreshInstance(id);
    } catch (e) {
      report(e);
    }
  },
  async start(machine, input) {
    if (!api) return;
    try {
      const started = await api.start(machine, input);
      location.hash = routeHash({ view: 'instance', id: started.id });
    } catch (e) {
      report(e);
    }
  },
  setTaskFilters(filters) {
    store.trigger.taskFiltersChanged({ filters });
    loadTasks().catch(report);
  },
  async task(taskId) {
    if (!api) throw new Error('no API key');
    return api.task(taskId);
  },
  async claimTask(taskId, instanceId) {
    if (!api) return;
    try {
      const t = await api.claimTask(taskId);
      notify('info', `Claimed: ${t.title}`);
      await (instanceId ? refreshInstance(instanceId) : loadTasks());
    } catch (e) {
      report(e);
    }
  },
  async completeTask(taskId, answer, instanceId) {
    if (!api) return false;
    try {
      const { task } = await api.completeTask(taskId, answer);
      notify('info', `Completed: ${task.title}`);
      await (instanceId ? refreshInstance(instanceId) : loadTasks());
      return true;
    } catch (e) {
      report(e);
      return false;
    }
  },
  async diagram(ref) {
    const cached = store.getSnapshot().context.diagrams[ref];
    if (cached !== undefined) return cached;
    if (!api) throw new Error('no API key');
    const text = await api.mermaid(ref);
    store.trigger.diagramLoaded({ ref, text });
    return text;
  },
};

// ---- views -----------------------------------------------------------------

let view: View | undefined;
let mounted = '';

function render(ctx: DashboardContext): void {
  const which = ctx.key ? `${ctx.route.view}:${'id' in ctx.route ? (ctx.route.id ?? '') : ''}` : 'no-key';
  if (which !== mounted) {
    view?.destroy?.();
    mounted = which;
    if (!ctx.key) {
      view = undefined;
      replace(
        app,
        h(
          'section',
          { class: 'welcome' },
          h('h2', null, 'Enter an API key'),
          h(
            'p',
            null,
            'Paste a key in the field above. ',
            h('code', null, 'npm start'),
            ' prints a development key (also in ',
            h('code', null, '.statekeeper/dev-api-key'),
            '); ',
            h('code', null, 'npm run apikey -- create'),
            ' makes others. The key stays in this tab only.',
          ),
        ),
      );
    } else if (ctx.route.view === 'instance') view = mountInstanceView(app, ctx.route.id, actions);
    else if (ctx.route.view === 'machines') view = mountMachinesView(app, ctx.route.id, actions);
    else if (ctx.route.view === 'tasks') view = mountTasksView(app, actions, ctx);
    else view = mountInstancesView(app, actions, ctx);
  }
  view?.update(ctx);
  for (const a of Array.from(document.querySelectorAll<HTMLAnchorElement>('[data-nav]'))) {
    a.classList.toggle('current', a.dataset.nav === (ctx.route.view === 'instance' ? 'instances' : ctx.route.view));
  }
  keyForget.hidden = !ctx.key;
  banner.hidden = !ctx.notice;
  banner.className = ctx.notice ? `notice-${ctx.notice.kind}` : '';
  banner.textContent = ctx.notice?.text ?? '';
}

function setKey(key: string | null): void {
  storeKey(key);
  api = key ? createApiClient(key) : null;
  store.trigger.keyChanged({ key });
}

store.subscribe((snapshot) => render(snapshot.context));
keyForm.addEventListener('submit', (e) => {
  e.preventDefault();
  const key = keyInput.value.trim();
  if (!key) return;
  keyInput.value = '';
  setKey(key);
  enterRoute(parseRoute(location.hash));
});
keyForget.addEventListener('click', () => {
  setKey(null);
  enterRoute(parseRoute(location.hash));
});
window.addEventListener('hashchange', () => enterRoute(parseRoute(location.hash)));
render(store.getSnapshot().context);
enterRoute(parseRoute(location.hash));
