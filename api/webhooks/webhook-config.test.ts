import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, test } from 'vitest';
import { loadWebhookSources } from './webhook-config.ts';

const source = (name: string) => ({
  name,
  kind: 'github',
  secretEnv: 'GH_SECRET',
  map: { key: 'order', value: { from: '/number' }, event: { type: 'checks.passed' } },
});

test('sources load from a YAML or JSON file and from JSON text, with defaults and secrets from the environment', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sk-hooks-'));
  const yaml = path.join(dir, 'hooks.yaml');
  const lines = [
    'sources:',
    '  - name: gh',
    '    kind: github',
    '    secretEnv: GH_SECRET',
    '    map: { key: order, value: { from: /number }, event: { type: checks.passed } }',
  ];
  writeFileSync(yaml, `${lines.join('\n')}\n`);
  const env = { GH_SECRET: 'gh-secret-0123456789abcdef' };
  const loaded = loadWebhookSources({ file: yaml, json: JSON.stringify({ sources: [source('gh2')] }), env });
  expect(loaded.map((s) => [s.name, s.tenant, s.toleranceSeconds, s.replayWindowSeconds, s.maxBodyBytes, s.secret])).toEqual([
    ['gh', 'default', 300, 259200, 262144, env.GH_SECRET],
    ['gh2', 'default', 300, 259200, 262144, env.GH_SECRET],
  ]);
  expect(() => loadWebhookSources({ json: JSON.stringify({ sources: [source('gh'), source('gh')] }), env })).toThrow(/used twice/);
  expect(() => loadWebhookSources({ json: JSON.stringify({ sources: [{ ...source('x'), extra: 1 }] }), env })).toThrow(/extra/);
  expect(loadWebhookSources({})).toEqual([]);
});
