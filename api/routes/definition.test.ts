import { describe, expect, test } from 'vitest';
import { createStandardTestApi } from '../../test/support/api-test-support.ts';
import { greetingMachine } from '../../machines/greeting.machine.ts';
import { machineToMermaid } from '../exports/mermaid.ts';

describe('GET /v1/machines/{id}/definition', () => {
  test('format=mermaid answers the state diagram as text, for the latest or a pinned version', async () => {
    const api = await createStandardTestApi();
    const latest = await api.request('GET', '/v1/machines/greeting/definition?format=mermaid', { key: api.keys.viewer });
    expect(latest.status).toBe(200);
    expect(latest.headers.get('content-type')).toBe('text/vnd.mermaid; charset=utf-8');
    expect(await latest.text()).toBe(machineToMermaid(greetingMachine));
    const pinned = await api.request('GET', '/v1/machines/greeting@1/definition?format=mermaid&direction=TB', { key: api.keys.viewer });
    expect(await pinned.text()).toBe(machineToMermaid(greetingMachine, { direction: 'TB' }));
  });

  test('an unknown format is a 400 naming the supported ones; unknown machines 404; a credential is needed', async () => {
    const api = await createStandardTestApi();
    const bad = await api.call('GET', '/v1/machines/greeting/definition?format=xml', { key: api.keys.viewer });
    expect([bad.status, bad.body.error.code, bad.body.error.details]).toEqual([
      400,
      'unsupported_format',
      { format: 'xml', supported: ['json', 'ts', 'mermaid'] },
    ]);
    const extra = await api.call('GET', '/v1/machines/greeting/definition?format=mermaid&direction=up', { key: api.keys.viewer });
    expect([extra.status, extra.body.error.code]).toEqual([400, 'validation_failed']);
    const missing = await api.call('GET', '/v1/machines/nope/definition?format=mermaid', { key: api.keys.viewer });
    expect([missing.status, missing.body.error.code]).toEqual([404, 'machine_not_found']);
    expect((await api.call('GET', '/v1/machines/greeting/definition?format=mermaid', { key: null })).status).toBe(401);
  });
});
