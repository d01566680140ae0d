import { describe, expect, test } from 'vitest';
import { createSimulation } from './testing/index.ts';
import { badString, isStorableDate, MAX_DATE_MS, MAX_DEPTH, unstorable } from './storable.ts';
import { approval } from '../test/fixtures/machines.ts';

describe('inputs, payloads, keys and dates that cannot be stored', () => {
  test('strings and keys: NUL characters and lone surrogates are named; pairs pass', () => {
    expect(badString('a\u0000b')).toMatch(/NUL/);
    expect(badString('\uD800')).toMatch(/surrogate/);
    expect(badString('\uD83D\uDE00 ok')).toBeUndefined();
    expect(unstorable({ list: [1, { 'k\u0000': 2 }] }, 'input')).toEqual({
      path: 'input.list[1]["k\\u0000"]',
      reason: 'a key with a NUL character',
    });
  });

  test('5,000 levels of nesting stop at the depth limit instead of overflowing the stack', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 5000; i++) deep = { a: deep };
    expect(unstorable(deep, 'input')?.reason).toBe(`nesting deeper than ${MAX_DEPTH} levels`);
  });

  test('dates: years 1 to 9999', () => {
    expect(isStorableDate(new Date('0001-01-01T00:00:00Z'))).toBe(true);
    expect(isStorableDate(new Date('0000-12-31T23:59:59Z'))).toBe(false);
    expect(isStorableDate(new Date(MAX_DATE_MS + 1))).toBe(false);
  });

  test('the runtime refuses them in inputs, events, keys and callers with invalid_argument, storing nothing', async () => {
    const { runtime } = await createSimulation({ machines: [{ machine: approval, options: { version: '1' } }] });
    let deep: unknown = 1;
    for (let i = 0; i < 3000; i++) deep = [deep];
    const invalid = { code: 'invalid_argument' };
    await expect(runtime.start({ machine: 'approval', input: { amount: 1, note: 'a\u0000' } })).rejects.toMatchObject(invalid);
    await expect(runtime.start({ machine: 'approval', input: { amount: 1, deep } })).rejects.toMatchObject(invalid);
    await expect(runtime.start({ machine: 'approval', input: { amount: 1 }, idempotencyKey: '\uD800' })).rejects.toMatchObject(invalid);
    await expect(runtime.start({ machine: 'approval', input: { amount: 1 }, caller: { id: 'u\u0000' } })).rejects.toMatchObject(invalid);
    expect((await runtime.list()).items).toHaveLength(0);
    const { id } = await runtime.start({ machine: 'approval', input: { amount: 1 } });
    await expect(runtime.send(id, { type: 'legal.approve', by: '\uDC00' })).rejects.toMatchObject(invalid);
    await expect(runtime.send(id, { type: 'legal\u0000approve' })).rejects.toMatchObject(invalid);
    expect((await runtime.get(id)).version).toBe(1);
  });
});
