import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { identicalCases } from './cases/index.ts';
import { refusedCases } from './cases/refused.ts';
import { PENDING } from './pending.ts';

/**
 * The README's "XState features" table is the promise to users: every
 * conformance machine appears in it with the verdict its test proves
 * (identical, refused, or an open divergence), and every machine it names exists.
 */

interface Row {
  feature: string;
  verdict: string;
  names: string[];
}

function tableRows(): Row[] {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.split('\n## XState features\n')[1]?.split('\n## ')[0] ?? '';
  return section
    .split('\n')
    .filter((l) => l.startsWith('| ') && !l.startsWith('| feature') && !l.startsWith('|---'))
    .map((l) => {
      const [feature = '', verdict = '', names = ''] = l.split(' | ').map((c) => c.replace(/^\| ?| ?\|$/g, '').trim());
      return { feature, verdict, names: [...names.matchAll(/`([^`]+)`/g)].map((m) => m[1]!) };
    });
}

describe('README "XState features" table', () => {
  const rows = tableRows();

  test('has rows', () => {
    expect(rows.length).toBeGreaterThanOrEqual(40);
  });

  test('lists every identical machine as identical (or as diverging while it is open)', () => {
    for (const c of identicalCases) {
      const row = rows.find((r) => r.names.includes(c.name));
      expect(row, `${c.name} is missing from the README table`).toBeDefined();
      expect(row!.verdict, c.name).toMatch(PENDING[c.name] ? /^diverges/ : /^identical/);
    }
  });

  test('lists every refused machine as refused', () => {
    for (const c of refusedCases) {
      const row = rows.find((r) => r.names.includes(c.name));
      expect(row, `${c.name} is missing from the README table`).toBeDefined();
      expect(row!.verdict, c.name).toMatch(/^refused/);
    }
  });

  test('names only machines that exist', () => {
    const known = new Set([...identicalCases, ...refusedCases].map((c) => c.name));
    for (const r of rows) for (const n of r.names) expect(known.has(n), `${r.feature}: unknown machine ${n}`).toBe(true);
  });
});
