import { describe, expect, test } from 'vitest';
import type { Instance } from './api.ts';
import { createDashboardStore, parseRoute, routeHash, type Route } from './store.ts';

const instance = (id: string) => ({ id, machine: { id: 'greeting', version: '1' }, state: 'a' }) as unknown as Instance;

describe('dashboard store', () => {
  test('routes round-trip through the hash, ids with reserved characters included', () => {
    const routes: Route[] = [
      { view: 'instances' },
      { view: 'machines' },
      { view: 'machines', id: 'sign-up' },
      { view: 'instance', id: 'p-1:child/x y' },
    ];
    for (const r of routes) expect(parseRoute(routeHash(r))).toEqual(r);
    expect(parseRoute('')).toEqual({ view: 'instances' });
    expect(parseRoute('#/nowhere')).toEqual({ view: 'instances' });
  });

  test('an answer for another instance than the open one is dropped; leaving an instance forgets it', () => {
    const store = createDashboardStore({ key: 'k', route: { view: 'instance', id: 'a' } });
    store.trigger.instanceLoaded({ instance: instance('b'), history: [] });
    expect(store.getSnapshot().context.instance).toBeNull();
    store.trigger.instanceLoaded({ instance: instance('a'), history: [] });
    store.trigger.liveChanged({ live: 'live' });
    expect(store.getSnapshot().context.instance?.id).toBe('a');
    // The same route again (hash re-set) keeps what is shown.
    store.trigger.routed({ route: { view: 'instance', id: 'a' } });
    expect(store.getSnapshot().context).toMatchObject({ instance: { id: 'a' }, live: 'live' });
    store.trigger.routed({ route: { view: 'instance', id: 'c' } });
    expect(store.getSnapshot().context).toMatchObject({ instance: null, history: [], live: 'off' });
  });

  test('filters merge; a notice is cleared by navigation', () => {
    const store = createDashboardStore({ key: null, route: { view: 'instances' } });
    store.trigger.filtersChanged({ filters: { machine: 'greeting' } });
    store.trigger.filtersChanged({ filters: { status: 'done' } });
    expect(store.getSnapshot().context.filters).toEqual({ machine: 'greeting', status: 'done', state: '' });
    store.trigger.noticed({ notice: { kind: 'error', text: 'x' } });
    store.trigger.routed({ route: { view: 'machines' } });
    expect(store.getSnapshot().context.notice).toBeNull();
  });
});
