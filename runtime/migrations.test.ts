import { describe, expect, test } from 'vitest';
import { applyChain, fromLeafPaths, leafPaths, mapStateValue, MigrationRegistry } from './migrations.ts';

describe('snapshot migrations', () => {
  test('a state map moves leaves by their longest matching prefix, parallel regions included', () => {
    const map = { working: 'processing', 'review.waiting': 'review.queued', 'p.left': 'p.west' };
    expect(mapStateValue('working', map)).toBe('processing');
    expect(mapStateValue({ working: 'charging' }, map)).toEqual({ processing: 'charging' });
    expect(mapStateValue({ review: 'waiting' }, map)).toEqual({ review: 'queued' });
    expect(mapStateValue({ review: 'approved' }, map)).toEqual({ review: 'approved' });
    expect(mapStateValue({ p: { left: 'a', right: 'b' } }, map)).toEqual({ p: { west: 'a', right: 'b' } });
    expect(leafPaths({ p: { left: {}, right: 'b' } })).toEqual(['p.left', 'p.right.b']);
    expect(fromLeafPaths(['p.left', 'p.right.b'])).toEqual({ p: { left: {}, right: 'b' } });
  });

  test('chains follow registered steps, shortest first; a throwing step is named', () => {
    const r = new MigrationRegistry();
    r.register({ machine: 'm', from: '1', to: '2', stateMap: { a: 'b' } });
    r.register({ machine: 'm', from: '2', to: '3', migrate: (s) => ({ value: s.value, context: { ...(s.context as object), v3: true } }) });
    r.register({ machine: 'm', from: '1', to: '3', stateMap: { a: 'c' } });
    expect(r.path('m', '1', '3')?.map((m) => `${m.from}→${m.to}`)).toEqual(['1→3']);
    expect(r.path('m', '2', '3')?.map((m) => `${m.from}→${m.to}`)).toEqual(['2→3']);
    expect(r.path('m', '3', '1')).toBeUndefined();
    const chain = [...r.path('m', '1', '2')!, ...r.path('m', '2', '3')!];
    expect(applyChain(chain, { value: 'a', context: { n: 1 }, status: 'active', version: '1' })).toEqual({
      value: 'b',
      context: { n: 1, v3: true },
    });
    const failing = new MigrationRegistry();
    failing.register({ machine: 'm', from: '1', to: '2', migrate: () => ({ value: null, context: {} }) });
    expect(() => applyChain(failing.list('m'), { value: 'a', context: {}, status: 'active', version: '1' })).toThrow(
      'migration 1→2 failed: the migration returned no state value',
    );
  });

  test('malformed definitions and a second migration of a pair are refused', () => {
    const r = new MigrationRegistry();
    const bad = [
      { machine: 'm', from: '1', to: '1', stateMap: {} },
      { machine: 'm', from: '1', to: '2' },
      { machine: 'm', from: '1', to: '2', stateMap: {}, migrate: () => ({ value: 'a', context: {} }) },
      { machine: 'm', from: '1', to: '2', stateMap: { 'a..b': 'c' } },
      { machine: 'm', from: 'x y', to: '2', stateMap: {} },
    ];
    for (const def of bad) expect(() => r.register(def as never)).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
    r.register({ machine: 'm', from: '1', to: '2', stateMap: {} });
    expect(() => r.register({ machine: 'm', from: '1', to: '2', stateMap: {} })).toThrow(
      expect.objectContaining({ code: 'machine_already_registered' }),
    );
  });
});
