import { expect, test } from 'vitest';
import { FeatureStatements } from './batch-statement.ts';

const statements = () => new FeatureStatements<'a' | 'b' | 'c'>('sk_x_v1', ['a', 'b', 'c'], (has) => `${has('a')}${has('b')}${has('c')}`);

test('one text and one name per feature set, whatever the order the features were met in', () => {
  const s = statements();
  const ab = s.text(new Set(['a', 'b']));
  expect(ab).toEqual({ name: 'sk_x_v1_3', sql: 'truetruefalse' });
  expect(s.text(new Set(['b', 'a']))).toBe(ab);
  expect(s.text(new Set(['c']))).toEqual({ name: 'sk_x_v1_4', sql: 'falsefalsetrue' });
  expect(s.text(new Set())).toEqual({ name: 'sk_x_v1_0', sql: 'falsefalsefalse' });
});

test('a feature the list does not declare is refused, so no two texts can share a name', () => {
  const s = new FeatureStatements<string>('sk_x_v1', ['a'], () => 'x');
  expect(() => s.text(new Set(['a', 'z']))).toThrow(/feature z is not declared/);
});
