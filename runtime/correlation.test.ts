import { describe, expect, test } from 'vitest';
import { setup } from 'xstate';
import { correlationSuite } from '../test/correlation-suite.ts';
import { compileCorrelation, correlationValues } from './correlation.ts';
import { MemoryStore } from './memory-store.ts';
import { Registry } from './registry.ts';

correlationSuite('the memory store', async () => new MemoryStore());

const m = setup({}).createMachine({ id: 'm', initial: 'a', states: { a: {} } });

describe('correlation keys at registration', () => {
  test.each([
    ['not an object', 'x'],
    ['no key', {}],
    ['a key name with a space', { 'order id': 'orderId' }],
    ['a path into a prototype', { order: 'input.__proto__.x' }],
    ['an empty path segment', { order: 'input..orderId' }],
    ['a number as source', { order: 42 }],
    ['too many keys', Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'a']))],
  ])('refuses %s, registering nothing', (_what, correlation) => {
    const registry = new Registry();
    expect(() => registry.register(m, { version: '1', correlation: correlation as never })).toThrow(
      expect.objectContaining({ code: 'invalid_argument', message: expect.stringContaining('correlation') }),
    );
    expect(registry.list()).toEqual([]);
  });

  test('paths read own properties only; numbers are written in decimal; empty values index nothing', () => {
    const c = compileCorrelation({ a: 'input.items.1.sku', b: 'n', c: 'missing.deep', d: (ctx: { e: string }) => ctx.e })!;
    expect(correlationValues('m@1', c, { input: { items: [{}, { sku: 'S-9' }] }, n: 42, e: '' })).toEqual({ a: 'S-9', b: '42' });
    expect(correlationValues('m@1', c, Object.create({ n: 'inherited' }))).toEqual({});
  });

  test.each([
    ['an object', { id: 1 }],
    ['a boolean', true],
    ['NaN', Number.NaN],
    ['a NUL character', 'a\u0000b'],
    ['257 characters', 'x'.repeat(257)],
  ])('a value that is %s cannot be indexed', (_what, v) => {
    const c = compileCorrelation({ order: () => v })!;
    expect(() => correlationValues('m@1', c, {})).toThrow(expect.objectContaining({ code: 'invalid_correlation_value' }));
  });
});
