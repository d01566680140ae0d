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

  test('cancel keys match steps and children by invoke id, timers by the send id they hold, sends never; all matches everything', () => {
    const step = { id: 'step-1', kind: 'step', name: 'a', keyed: false } as const;
    const child = { id: 'child-1', kind: 'child', name: 'a', keyed: false } as const;
    const timer = { id: 'timer-1', kind: 'timer', name: 'a', keyed: true } as const;
    const send = { id: 'send-1', kind: 'send', name: 'a', keyed: false } as const;
    // A timer whose id a newer timer (or a fire) took: still open, out of reach of cancel(id).
    const released = { id: 'timer-2', kind: 'timer', name: 'a', keyed: false } as const;
    const actor = [{ kind: 'actor', invokeId: 'a' }] as const;
    const all = [step, child, timer, send, released];
    expect(all.map((e) => cancels(actor, e))).toEqual([true, true, false, false, false]);
    expect(all.map((e) => cancels([{ kind: 'timer', sendId: 'a' }], e))).toEqual([false, false, true, false, false]);
    expect(all.map((e) => cancels([{ kind: 'all' }], e))).toEqual([true, true, true, true, true]);
    // By its row, a timer is cancelled whether it holds its id or not; nothing else is.
    expect(all.map((e) => cancels([{ kind: 'timerRow', effectId: 'timer-2' }], e))).toEqual([false, false, false, false, true]);
    expect(cancels(actor, { id: 'step-2', kind: 'step', name: 'b', keyed: false })).toBe(false);
    expect(all.map(cancelKeyOf)).toEqual([actor[0], actor[0], { kind: 'timer', sendId: 'a' }, undefined, undefined]);
  });

  test('the SQL filter groups names by effect kind', () => {
    expect(
      cancelFilter([
        { kind: 'actor', invokeId: 'a' },
        { kind: 'timer', sendId: 't' },
        { kind: 'timerRow', effectId: 'i:timer:t:2' },
      ]),
    ).toEqual({ step: ['a'], child: ['a'], timer: ['t'], timerRows: ['i:timer:t:2'] });
    expect(cancelFilter([{ kind: 'actor', invokeId: 'a' }, { kind: 'all' }])).toEqual({ all: true });
  });

  test('effect ids start with their instance id', () => {
    const ids = [
      effectId.invoke('i-1', 'a', 2),
      effectId.send('i-1', 2, 0),
      effectId.timer('i-1', 'after.5', 3),
      effectId.timer('i-1', 'x', 3, 1),
    ];
    // A second timer of one send id in one commit is numbered; the first keeps the form stored rows have.
    expect(ids).toEqual(['i-1:a:2', 'i-1:send:2.0', 'i-1:timer:after.5:3', 'i-1:timer:x:3.1']);
    expect(ids.every((id) => effectOf(id, 'i-1'))).toBe(true);
    expect(effectOf('i-10:a:2', 'i-1')).toBe(false);
  });
});
