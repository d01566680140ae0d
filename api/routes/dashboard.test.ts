import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { OpenAPIHono } from '@hono/zod-openapi';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ApiEnv } from '../env.ts';
import { DASHBOARD_CSP, registerDashboardRoutes } from './dashboard.ts';

describe('dashboard routes', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'statekeeper-ui-'));
    await mkdir(path.join(dir, 'dist/assets'), { recursive: true });
    await writeFile(
      path.join(dir, 'dist/index.html'),
      '<!doctype html><title>Statekeeper</title><script type="module" src="/ui/assets/index-abc.js"></script>',
    );
    await writeFile(path.join(dir, 'dist/assets/index-abc.js'), 'console.log("dashboard")');
    await writeFile(path.join(dir, 'secret.txt'), 'not served');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const appFor = (distDir: string) => {
    const app = new OpenAPIHono<ApiEnv>();
    registerDashboardRoutes(app, { distDir });
    return app;
  };

  test('/ and /ui/ serve the page under a strict content security policy; /ui redirects', async () => {
    const app = appFor(path.join(dir, 'dist'));
    for (const url of ['/', '/ui/']) {
      const res = await app.request(url);
      expect(res.status, url).toBe(200);
      expect(res.headers.get('content-security-policy')).toBe(DASHBOARD_CSP);
      expect(res.headers.get('cache-control')).toBe('no-cache');
      expect(await res.text()).toContain('/ui/assets/index-abc.js');
    }
    const redirect = await app.request('/ui');
    expect([redirect.status, redirect.headers.get('location')]).toEqual([301, '/']);
    expect(DASHBOARD_CSP).toContain("script-src 'self'");
    expect(DASHBOARD_CSP).toContain("connect-src 'self'");
  });

  test('assets are served with long caching; nothing outside the assets folder is', async () => {
    const app = appFor(path.join(dir, 'dist'));
    const asset = await app.request('/ui/assets/index-abc.js');
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toContain('javascript');
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    for (const url of ['/ui/assets/missing.js', '/ui/assets/../index.html', '/ui/assets/%2e%2e/%2e%2e/secret.txt', '/ui/index.html']) {
      expect((await app.request(url)).status, url).toBe(404);
    }
  });

  test('an unbuilt dashboard says how to build it', async () => {
    const res = await appFor(path.join(dir, 'nothing-here')).request('/');
    expect(res.status).toBe(503);
    expect(await res.text()).toContain('npm run build:ui');
  });
});
