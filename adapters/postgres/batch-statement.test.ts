import { expect, test } from 'vitest';
import { FeatureStatements } from './batch-statement.ts';

const texts = (s: FeatureStatements<'a' | 'b' | 'c'>, used: ('a' | 'b' | 'c')[]) => {
  const { name, sql } = s.text(new Set(used));
  return { name, sql };
};
const statements = () => new FeatureStatements<'a' | 'b' | 'c'>('sk_x_v1', ['a', 'b', 'c'], (has) => `${has('a')}${has('b')}${has('c')}`);

test('one text and one name per feature set, whatever the order the features were met in', () => {
  const s = statements();
  const ab = s.text(new Set(['a', 'b']));
  expect(texts(s, ['a', 'b'])).toEqual({ name: 'sk_x_v1_3', sql: 'truetruefalse' });
  expect(s.text(new Set(['b', 'a']))).toBe(ab);
  expect(ab.has('a') && ab.has('b') && !ab.has('c')).toBe(true);
  expect(texts(s, ['c'])).toEqual({ name: 'sk_x_v1_4', sql: 'falsefalsetrue' });
  expect(texts(s, [])).toEqual({ name: 'sk_x_v1_0', sql: 'falsefalsefalse' });
});

test('a feature the list does not declare is refused, so no two texts can share a name', () => {
  const s = new FeatureStatements<string>('sk_x_v1', ['a'], () => 'x');
  expect(() => s.text(new Set(['a', 'z']))).toThrow(/feature z is not declared/);
});

test('past the cap, a new feature set runs the text with every feature', () => {
  const s = new FeatureStatements<'a' | 'b' | 'c'>('sk_x_v1', ['a', 'b', 'c'], (has) => `${has('a')}${has('b')}${has('c')}`, 2);
  s.text(new Set(['a']));
  s.text(new Set(['b']));
  expect(texts(s, ['c'])).toEqual({ name: 'sk_x_v1_7', sql: 'truetruetrue' });
  expect(s.text(new Set(['c'])).has('a')).toBe(true);
  // The sets met before the cap keep their own texts.
  expect(texts(s, ['a'])).toEqual({ name: 'sk_x_v1_1', sql: 'truefalsefalse' });
});
