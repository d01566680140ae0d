import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createCatalog, stepActors } from './catalog.ts';
import type { DefinitionIssue } from './issues.ts';
import { validateDefinition } from './validate-definition.ts';

const catalog = createCatalog(stepActors(['composeGreeting']), {
  guards: {
    isLarge: {
      fn: ({ context }, p: { min: number }) => context.pages > p.min,
      params: z.object({ min: z.number().int().positive() }).strict(),
    },
  },
  actions: { notify: { fn: () => undefined, params: z.object({ channel: z.enum(['email', 'sms']) }).strict() } },
  delays: { reviewWindow: { fn: 60_000 } },
});

/** A valid definition; each test breaks one thing. */
const base = () => ({
  id: 'review',
  version: '1',
  context: { pages: { $expr: 'input.pages' } },
  initial: 'drafting',
  states: {
    drafting: {
      invoke: { id: 'compose', src: 'composeGreeting', input: { name: 'Ada' }, onDone: 'reviewing', onError: 'failed' },
    },
    reviewing: {
      entry: { type: 'notify', params: { channel: 'email' } },
      on: { approve: [{ guard: { type: 'isLarge', params: { min: 100 } }, target: 'approved' }, { target: 'approved' }] },
      after: { reviewWindow: '#review.failed', 5000: { target: '.waiting' } },
      initial: 'waiting',
      states: { waiting: {} },
    },
    approved: { type: 'final' },
    failed: { type: 'final' },
  },
});

const issues = (def: unknown): DefinitionIssue[] => {
  const r = validateDefinition(def, catalog, { machineExists: (id) => id === 'registered-child' });
  return r.ok ? [] : r.issues;
};
const only = (def: unknown) => {
  const list = issues(def);
  expect(list).toHaveLength(1);
  return list[0]!;
};

describe('JSON definition validation', () => {
  it('accepts the base definition (and text as well as objects)', () => {
    expect(issues(base())).toEqual([]);
    expect(issues(JSON.stringify(base()))).toEqual([]);
  });

  it('invalid JSON: line and column', () => {
    const i = only('{\n  "id": "x",\n  "initial": oops\n}');
    expect(i).toMatchObject({ code: 'invalid_json', path: '', line: 3 });
    expect(i.column).toBeGreaterThan(1);
  });

  it('not an object', () => expect(only('[1]')).toMatchObject({ code: 'invalid_value', path: '' }));

  it('missing id (and so the "#review…" target has nothing to point at)', () => {
    const d: any = base();
    delete d.id;
    expect(issues(d).map((i) => [i.code, i.path])).toEqual([
      ['missing_id', '/id'],
      ['target_not_found', '/states/reviewing/after/reviewWindow'],
    ]);
  });

  it('missing initial (root and nested)', () => {
    const d: any = base();
    delete d.initial;
    delete d.states.reviewing.initial;
    expect(issues(d).map((i) => [i.code, i.path])).toEqual([
      ['missing_initial', '/states/reviewing/initial'],
      ['missing_initial', '/initial'],
    ]);
  });

  it('initial that is not a child', () => {
    const d: any = base();
    d.initial = 'nowhere';
    expect(only(d)).toMatchObject({ code: 'initial_not_found', path: '/initial' });
  });

  it('target that does not exist: sibling, child, #id', () => {
    const d: any = base();
    d.states.drafting.invoke.onDone = 'reviewng';
    d.states.reviewing.after['5000'].target = '.missing';
    d.states.reviewing.after.reviewWindow = '#review.nope';
    expect(issues(d).map((i) => [i.code, i.path])).toEqual([
      ['target_not_found', '/states/drafting/invoke/onDone'],
      ['target_not_found', '/states/reviewing/after/5000/target'],
      ['target_not_found', '/states/reviewing/after/reviewWindow'],
    ]);
  });

  it('unknown guard', () => {
    const d: any = base();
    d.states.reviewing.on.approve[0].guard.type = 'isHuge';
    expect(only(d)).toMatchObject({ code: 'unknown_guard', path: '/states/reviewing/on/approve/0/guard/type' });
  });

  it('unknown action', () => {
    const d: any = base();
    d.states.reviewing.entry = ['notify', 'shout'];
    // "notify" without params also fails its schema.
    expect(issues(d).map((i) => [i.code, i.path])).toEqual([
      ['invalid_params', '/states/reviewing/entry/0'],
      ['unknown_action', '/states/reviewing/entry/1'],
    ]);
  });

  it('unknown actor', () => {
    const d: any = base();
    d.states.drafting.invoke.src = 'composeGreting';
    expect(only(d)).toMatchObject({ code: 'unknown_actor', path: '/states/drafting/invoke/src' });
  });

  it('an invoked registered machine is an actor', () => {
    const d: any = base();
    d.states.drafting.invoke.src = 'registered-child';
    expect(issues(d)).toEqual([]);
  });

  it('unknown delay', () => {
    const d: any = base();
    d.states.reviewing.after = { soon: 'approved' };
    expect(only(d)).toMatchObject({ code: 'unknown_delay', path: '/states/reviewing/after/soon' });
  });

  it('a delay written as "=<CEL>" must parse; one that parses is accepted', () => {
    const d: any = base();
    d.states.reviewing.after = { '=context.pages * 1000': 'approved', '=context.(': 'approved' };
    expect(only(d)).toMatchObject({ code: 'invalid_expression', path: '/states/reviewing/after/=context.(' });
  });

  it('built-in set, emit and when: params checked, expressions parsed', () => {
    const d: any = base();
    d.states.reviewing.entry = [
      { type: 'set', params: { path: 'a.b', value: { $expr: 'context.pages + 1' } } },
      { type: 'set', params: { path: 'a..b', value: 1 } },
      { type: 'emit', params: { event: { type: 'review.started', pages: { $expr: 'context.(' } } } },
    ];
    d.states.reviewing.on.approve[0].guard = { type: 'when', params: { expr: 'input.pages >' } };
    expect(issues(d).map((i) => [i.code, i.path])).toEqual([
      ['invalid_expression', '/states/reviewing/on/approve/0/guard/params/expr'],
      ['invalid_params', '/states/reviewing/entry/1/params/path'],
      ['invalid_expression', '/states/reviewing/entry/2/params/event/pages/$expr'],
    ]);
  });

  it('params failing the implementation schema, at the param', () => {
    const d: any = base();
    d.states.reviewing.on.approve[0].guard.params.min = -3;
    d.states.reviewing.entry.params.channel = 'pigeon';
    expect(
      issues(d)
        .map((i) => [i.code, i.path])
        .sort(),
    ).toEqual([
      ['invalid_params', '/states/reviewing/entry/params/channel'],
      ['invalid_params', '/states/reviewing/on/approve/0/guard/params/min'],
    ]);
  });

  it('an expression that does not parse', () => {
    const d: any = base();
    d.context.pages = { $expr: 'input.pages +' };
    expect(only(d)).toMatchObject({ code: 'invalid_expression', path: '/context/pages/$expr' });
  });

  it('an unknown mapper', () => {
    const d: any = base();
    d.states.drafting.invoke.input = { $ref: 'nameOf' };
    expect(only(d)).toMatchObject({ code: 'unknown_mapper', path: '/states/drafting/invoke/input/$ref' });
  });

  it('unknown keys (a misspelt property)', () => {
    const d: any = base();
    d.states.approved.typ = 'final';
    expect(only(d)).toMatchObject({ code: 'unknown_key', path: '/states/approved/typ' });
  });

  it('duplicate state ids', () => {
    const d: any = base();
    d.states.approved.id = 'done';
    d.states.failed.id = 'done';
    expect(only(d)).toMatchObject({ code: 'duplicate_id', path: '/states/failed/id' });
  });

  it('bad values: NUL in a string, a state name with a dot, deep nesting', () => {
    const d: any = base();
    d.context.note = 'a\u0000b';
    d.states['a.b'] = {};
    let deep: any = {};
    const top = deep;
    for (let i = 0; i < 5000; i++) {
      deep.initial = 's';
      deep.states = { s: {} };
      deep = deep.states.s;
    }
    d.states.deep = top;
    const list = issues(d);
    expect(list.map((i) => i.code)).toEqual(['invalid_value', 'invalid_value', 'too_deep']);
    expect(list[0]!.path).toBe('/context/note');
    expect(list[1]!.path).toBe('/states/a.b');
  });

  it('reports every problem at once', () => {
    const d: any = base();
    delete d.initial;
    d.states.drafting.invoke.src = 'nope';
    d.states.reviewing.on.approve[1].target = 'nowhere';
    expect(
      issues(d)
        .map((i) => i.code)
        .sort(),
    ).toEqual(['missing_initial', 'target_not_found', 'unknown_actor']);
  });
});
