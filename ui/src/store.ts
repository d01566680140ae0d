/**
 * The page's client-side state in one `@xstate/store`: what the user chose
 * (key, route, filters) and what the API answered. Views read snapshots of
 * it; only the controller (`main.ts`) sends events to it.
 */
import { createStore } from '@xstate/store';
import type { HistoryEntry, Instance, InstanceFilters, InstanceSummary, Machine, MachineSummary, Stats, Task, TaskFilters } from './api.ts';

/** Where the page is: the hash route. */
export type Route = { view: 'instances' } | { view: 'machines'; id?: string } | { view: 'instance'; id: string } | { view: 'tasks' };

/** State of the live connection to an instance's event stream. */
export type LiveStatus = 'off' | 'connecting' | 'live' | 'ended' | 'retrying';

/** A message shown in the banner. */
export interface Notice {
  readonly kind: 'error' | 'info';
  readonly text: string;
}

/** The store's context. */
export interface DashboardContext {
  key: string | null;
  route: Route;
  machines: MachineSummary[];
  stats: Stats | null;
  filters: InstanceFilters;
  instances: InstanceSummary[];
  machine: Machine | null;
  instance: Instance | null;
  history: HistoryEntry[];
  /** The task inbox: open tasks the key may act on, and its filters. */
  tasks: Task[];
  taskFilters: TaskFilters;
  live: LiveStatus;
  /** Mermaid text by machine ref (`id@version`). */
  diagrams: Record<string, string>;
  notice: Notice | null;
}

const KEY_STORAGE = 'statekeeper.apiKey';

/** The key kept for this browser tab (sessionStorage: gone when the tab closes). */
export function storedKey(): string | null {
  try {
    return sessionStorage.getItem(KEY_STORAGE);
  } catch {
    return null;
  }
}

/** Keeps (or forgets, with null) the key for this tab. */
export function storeKey(key: string | null): void {
  if (key) sessionStorage.setItem(KEY_STORAGE, key);
  else sessionStorage.removeItem(KEY_STORAGE);
}

/** Creates the dashboard store. */
export function createDashboardStore(initial: { key: string | null; route: Route }) {
  const context: DashboardContext = {
    key: initial.key,
    route: initial.route,
    machines: [],
    stats: null,
    filters: { machine: '', status: '', state: '' },
    instances: [],
    machine: null,
    instance: null,
    history: [],
    tasks: [],
    taskFilters: { role: '', assignee: '', machine: '' },
    live: 'off',
    diagrams: {},
    notice: null,
  };
  return createStore({
    context,
    on: {
      keyChanged: (ctx, e: { key: string | null }) => ({ ...ctx, key: e.key, notice: null }),
      routed: (ctx, e: { route: Route }) => {
        // Leaving an instance (or a machine) drops it, so the next view never shows a stale one.
        const sameInstance = e.route.view === 'instance' && ctx.route.view === 'instance' && e.route.id === ctx.route.id;
        return {
          ...ctx,
          route: e.route,
          instance: sameInstance ? ctx.instance : null,
          history: sameInstance ? ctx.history : [],
          live: sameInstance ? ctx.live : 'off',
          machine: e.route.view === 'machines' && ctx.machine?.id === e.route.id ? ctx.machine : null,
          notice: null,
        };
      },
      machinesLoaded: (ctx, e: { machines: MachineSummary[] }) => ({ ...ctx, machines: e.machines }),
      statsLoaded: (ctx, e: { stats: Stats }) => ({ ...ctx, stats: e.stats }),
      filtersChanged: (ctx, e: { filters: Partial<InstanceFilters> }) => ({ ...ctx, filters: { ...ctx.filters, ...e.filters } }),
      instancesLoaded: (ctx, e: { instances: InstanceSummary[] }) => ({ ...ctx, instances: e.instances }),
      machineLoaded: (ctx, e: { machine: Machine }) => ({ ...ctx, machine: e.machine }),
      instanceLoaded: (ctx, e: { instance: Instance; history?: HistoryEntry[] }) =>
        ctx.route.view === 'instance' && ctx.route.id === e.instance.id
          ? { ...ctx, instance: e.instance, history: e.history ?? ctx.history }
          : ctx,
      liveChanged: (ctx, e: { live: LiveStatus }) => ({ ...ctx, live: e.live }),
      tasksLoaded: (ctx, e: { tasks: Task[] }) => ({ ...ctx, tasks: e.tasks }),
      taskFiltersChanged: (ctx, e: { filters: Partial<TaskFilters> }) => ({ ...ctx, taskFilters: { ...ctx.taskFilters, ...e.filters } }),
      diagramLoaded: (ctx, e: { ref: string; text: string }) => ({ ...ctx, diagrams: { ...ctx.diagrams, [e.ref]: e.text } }),
      noticed: (ctx, e: { notice: Notice | null }) => ({ ...ctx, notice: e.notice }),
    },
  });
}

/** The dashboard store. */
export type DashboardStore = ReturnType<typeof createDashboardStore>;

/** Parses `location.hash` into a route (unknown hashes: the instance list). */
export function parseRoute(hash: string): Route {
  const [, view, ...rest] = hash.replace(/^#/, '').split('/');
  const id = rest.length ? decodeURIComponent(rest.join('/')) : undefined;
  if (view === 'instances' && id) return { view: 'instance', id };
  if (view === 'machines') return id ? { view: 'machines', id } : { view: 'machines' };
  if (view === 'tasks') return { view: 'tasks' };
  return { view: 'instances' };
}

/** The hash of a route. */
export function routeHash(route: Route): string {
  if (route.view === 'instance') return `#/instances/${encodeURIComponent(route.id)}`;
  if (route.view === 'machines') return route.id ? `#/machines/${encodeURIComponent(route.id)}` : '#/machines';
  if (route.view === 'tasks') return '#/tasks';
  return '#/instances';
}
