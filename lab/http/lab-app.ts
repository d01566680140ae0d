import { Hono } from 'hono';
import { requestId } from 'hono/request-id';
import { ExternalSystemError } from '../../actors/clients/index.ts';
import { errorDetail, type LabErrorCode } from '../errors.ts';
import type { Lab } from '../lab.ts';
import { businessRoutes } from './business-routes.ts';
import { controlRoutes } from './control-routes.ts';
import { networkRoutes } from './network-routes.ts';
import type { LabEnv } from './route-kit.ts';
import { tenantRoutes } from './tenant-routes.ts';

/** Body of every error answer of the lab service. */
export interface LabErrorBody {
  code: LabErrorCode;
  message: string;
  system?: string;
  operation?: string;
  retryable: boolean;
  requestId: string;
}

/**
 * The lab as a local HTTP service: each system's operations as REST routes,
 * in the vendor shapes where there is one, plus the lab's control routes.
 *
 * @remarks Every mutating route needs an `Idempotency-Key` header. Errors
 * answer with the error's status (404, 409, 400; 503 for a retryable injected
 * fault unless it names another) and a {@link LabErrorBody}. The request's
 * abort signal reaches the systems, so latency faults stop when the client
 * hangs up.
 *
 * @example
 * ```ts
 * import { serve } from '@hono/node-server';
 * const lab = createLab();
 * const server = serve({ fetch: createLabApp(lab).fetch, port: 4010 });
 * const clients = createHttpClients('http://localhost:4010');
 * ```
 */
export function createLabApp(lab: Lab): Hono<LabEnv> {
  const app = new Hono<LabEnv>();
  app.use(requestId());
  app.route('/', controlRoutes(lab));
  app.route('/', networkRoutes(lab));
  app.route('/', businessRoutes(lab));
  app.route('/', tenantRoutes(lab));

  app.notFound((c) =>
    c.json<LabErrorBody>(
      {
        code: 'not_found',
        message: `no lab route ${c.req.method} ${c.req.path}`,
        retryable: false,
        requestId: c.get('requestId'),
      },
      404,
    ),
  );

  app.onError((error, c) => {
    const id = c.get('requestId');
    if (error instanceof ExternalSystemError) {
      const status = error.status ?? (error.retryable ? 503 : 422);
      const code: LabErrorCode = 'code' in error ? (error.code as LabErrorCode) : 'upstream_error';
      const body: LabErrorBody = {
        code,
        message: errorDetail(error),
        system: error.system,
        operation: error.operation,
        retryable: error.retryable,
        requestId: id,
      };
      return c.json(body, status as 400);
    }
    // The client hung up (its signal fired): nobody reads this answer.
    if (error instanceof DOMException && (error.name === 'AbortError' || error.name === 'TimeoutError')) {
      return c.json<LabErrorBody>({ code: 'upstream_error', message: 'the request was aborted', retryable: true, requestId: id }, 503);
    }
    const message = error instanceof Error ? error.message : String(error);
    return c.json<LabErrorBody>({ code: 'internal_error', message, retryable: true, requestId: id }, 500);
  });
  return app;
}
