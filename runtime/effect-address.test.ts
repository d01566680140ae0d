import { describe, expect, test } from 'vitest';
import { cancelFilter, cancelKeyOf, cancels, decodeTarget, effectId, effectOf, encodeTarget, type EventTarget } from './effect-address.ts';

describe('effect addresses', () => {
  test('targets survive their stored form; an unknown form decodes to undefined', () => {
    const targets: EventTarget[] = [{ kind: 'self' }, { kind: 'parent', instanceId: 'p:kid:3' }, { kind: 'child', invokeId: 'kid' }];
    for (const t of targets) expect(decodeTarget(encodeTarget(t))).toEqual(t);
    // The stored strings are data in sk_effect.target: they must not change.
    expect(targets.map(encodeTarget)).toEqual([null, 'parent:p:kid:3', 'child:kid']);
    expect(decodeTarget('sibling:x')).toBeUndefined();
    expect(decodeTarget('parent:')).toBeUndefined();
  });

  test('cancel keys match steps and children by invoke id, timers by send id, sends never; all matches everything', () => {
    const step = { kind: 'step', name: 'a' } as const;
    const child = { kind: 'child', name: 'a' } as const;
    const timer = { kind: 'timer', name: 'a' } as const;
    const send = { kind: 'send', name: 'a' } as const;
    const actor = [{ kind: 'actor', invokeId: 'a' }] as const;
    expect([step, child, timer, send].map((e) => cancels(actor, e))).toEqual([true, true, false, false]);
    expect([step, child, timer, send].map((e) => cancels([{ kind: 'timer', sendId: 'a' }], e))).toEqual([false, false, true, false]);
    expect([step, child, timer, send].map((e) => cancels([{ kind: 'all' }], e))).toEqual([true, true, true, true]);
    expect(cancels(actor, { kind: 'step', name: 'b' })).toBe(false);
    expect([step, child, timer, send].map(cancelKeyOf)).toEqual([actor[0], actor[0], { kind: 'timer', sendId: 'a' }, undefined]);
  });

  test('the SQL filter groups names by effect kind', () => {
    expect(
      cancelFilter([
        { kind: 'actor', invokeId: 'a' },
        { kind: 'timer', sendId: 't' },
      ]),
    ).toEqual({ step: ['a'], child: ['a'], timer: ['t'] });
    expect(cancelFilter([{ kind: 'actor', invokeId: 'a' }, { kind: 'all' }])).toEqual({ all: true });
  });

  test('effect ids start with their instance id', () => {
    const ids = [effectId.invoke('i-1', 'a', 2), effectId.send('i-1', 2, 0), effectId.timer('i-1', 'after.5', 3)];
    expect(ids).toEqual(['i-1:a:2', 'i-1:send:2.0', 'i-1:timer:after.5:3']);
    expect(ids.every((id) => effectOf(id, 'i-1'))).toBe(true);
    expect(effectOf('i-10:a:2', 'i-1')).toBe(false);
  });
});
