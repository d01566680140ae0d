import { describe, expect, test } from 'vitest';
import { createStandardTestApi } from '../../test/support/api-test-support.ts';
import { HSTS } from './response-headers.ts';

describe('response headers', () => {
  test('tenant data and errors under /v1 are Cache-Control: no-store', async () => {
    const api = await createStandardTestApi();
    for (const [path, key] of [
      ['/v1/instances', undefined],
      ['/v1/machines', undefined],
      ['/v1/instances', null],
    ] as const) {
      const res = await api.request('GET', path, { key });
      expect(res.headers.get('Cache-Control'), `${path} ${res.status}`).toBe('no-store');
    }
  });

  test('HSTS only over HTTPS (directly or as X-Forwarded-Proto says), never over plain HTTP', async () => {
    const api = await createStandardTestApi();
    expect((await api.request('GET', '/v1/instances')).headers.get('Strict-Transport-Security')).toBeNull();
    expect((await api.app.request('/healthz')).headers.get('Strict-Transport-Security')).toBeNull();
    expect((await api.app.request('https://example.net/healthz')).headers.get('Strict-Transport-Security')).toBe(HSTS);
    const proxied = await api.app.request('/healthz', { headers: { 'X-Forwarded-Proto': 'https' } });
    expect(proxied.headers.get('Strict-Transport-Security')).toBe(HSTS);
  });
});
