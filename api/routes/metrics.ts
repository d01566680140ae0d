import { timingSafeEqual } from 'node:crypto';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppDeps } from '../app.ts';
import type { ApiEnv } from '../env.ts';
import { ApiError } from '../errors.ts';

/** What `GET /metrics` serves: Prometheus exposition text (see `observability/metrics.ts`). */
export interface MetricsEndpoint {
  render(): Promise<string>;
  readonly contentType: string;
  /**
   * When set, scrapes must send `Authorization: Bearer <token>`
   * (`STATEKEEPER_METRICS_TOKEN`); when unset, `/metrics` is open like `/healthz`.
   */
  readonly token?: string;
}

/**
 * `GET /metrics` in Prometheus text format, outside `/v1`: a scraper holds no
 * tenant's API key, and the numbers span all tenants. Protected by its own
 * bearer token when one is configured.
 */
export function registerMetricsRoutes(app: OpenAPIHono<ApiEnv>, deps: AppDeps): void {
  const metrics = deps.metrics;
  if (!metrics) return;
  app.get('/metrics', async (c) => {
    if (metrics.token && !sameToken(c.req.header('Authorization'), metrics.token))
      throw ApiError.unauthorized('GET /metrics needs "Authorization: Bearer <STATEKEEPER_METRICS_TOKEN>".');
    return c.body(await metrics.render(), 200, { 'Content-Type': metrics.contentType, 'Cache-Control': 'no-store' });
  });
}

function sameToken(header: string | undefined, token: string): boolean {
  const given = Buffer.from(/^Bearer[ ]+(\S+)[ ]*$/i.exec(header ?? '')?.[1] ?? '');
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
