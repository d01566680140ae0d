import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { serveStatic } from '@hono/node-server/serve-static';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { ApiEnv } from '../env.ts';

/** Where `vite build ui` writes the dashboard (`npm run build:ui`, run on install). */
export const UI_DIST_DIR = fileURLToPath(new URL('../../ui/dist/', import.meta.url));

/**
 * The dashboard's content security policy: its own scripts only, and calls
 * to this server only. Inline styles are allowed because Mermaid writes the
 * diagram's styles into the SVG it draws.
 */
export const DASHBOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Options of {@link registerDashboardRoutes}. */
export interface DashboardOptions {
  /** The built dashboard (default {@link UI_DIST_DIR}). */
  readonly distDir?: string;
}

/**
 * `GET /` (and `/ui/`): the dashboard page; `GET /ui/assets/*`: its bundled
 * scripts and styles (content-hashed names, cached for a year). The page
 * talks to the `/v1` API with the key the user enters, like any client.
 *
 * @remarks When the dashboard has not been built, `/` says how to build it
 * (503) instead of failing obscurely.
 */
export function registerDashboardRoutes(app: OpenAPIHono<ApiEnv>, options: DashboardOptions = {}): void {
  const dir = options.distDir ?? UI_DIST_DIR;
  const page = async (c: Context<ApiEnv>) => {
    c.header('Content-Security-Policy', DASHBOARD_CSP);
    c.header('Cache-Control', 'no-cache');
    const html = await readFile(`${dir}/index.html`, 'utf8').catch(() => undefined);
    if (html === undefined) {
      return c.html(
        '<!doctype html><title>Statekeeper</title><p>The dashboard is not built: run <code>npm run build:ui</code> and reload. ' +
          'The API is at <a href="/docs">/docs</a>.</p>',
        503,
      );
    }
    return c.html(html);
  };
  app.get('/', page);
  app.get('/ui', (c) => c.redirect('/', 301));
  app.get('/ui/', page);
  app.use('/ui/assets/*', async (c, next) => {
    await next();
    if (c.res.status === 200) c.header('Cache-Control', 'public, max-age=31536000, immutable');
  });
  app.get('/ui/assets/*', serveStatic({ root: dir, rewriteRequestPath: (path) => path.replace(/^\/ui\//, '/') }));
}
