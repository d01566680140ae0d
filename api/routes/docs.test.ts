import { z } from 'zod';
import { describe, expect, test } from 'vitest';
import { createStandardTestApi } from '../../test/support/api-test-support.ts';

/** The parts of OpenAPI 3.1 that tools rely on, checked structurally. */
const Parameter = z.object({
  name: z.string().min(1),
  in: z.enum(['path', 'query', 'header', 'cookie']),
  required: z.boolean().optional(),
  schema: z.record(z.string(), z.unknown()),
});
const MediaTypes = z.record(z.string().regex(/^[a-z]+\/[a-z0-9.+-]+$/), z.object({ schema: z.record(z.string(), z.unknown()) }));
const Operation = z.object({
  summary: z.string().min(1),
  tags: z.array(z.string()).min(1),
  parameters: z.array(Parameter).optional(),
  requestBody: z.object({ content: MediaTypes, required: z.boolean().optional() }).optional(),
  responses: z.record(z.string().regex(/^[1-5]\d\d$/), z.object({ description: z.string().min(1), content: MediaTypes.optional() })),
  security: z.array(z.record(z.string(), z.array(z.string()))).optional(),
});
const OpenApi31 = z.object({
  openapi: z.string().regex(/^3\.1\.\d+$/),
  info: z.object({ title: z.string().min(1), version: z.string().min(1), description: z.string().optional() }),
  paths: z.record(z.string().startsWith('/'), z.partialRecord(z.enum(['get', 'post', 'put', 'patch', 'delete']), Operation)),
  components: z.object({
    schemas: z.record(z.string(), z.unknown()),
    securitySchemes: z.record(z.string(), z.object({ type: z.string(), scheme: z.string().optional() })),
  }),
});

describe('OpenAPI document and docs', () => {
  test('GET /openapi.json is a structurally valid OpenAPI 3.1 document covering every route', async () => {
    const api = await createStandardTestApi();
    const r = await api.call('GET', '/openapi.json', { key: null });
    expect(r.status).toBe(200);
    const doc = OpenApi31.parse(r.body);
    const ops = Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`));
    expect(ops.sort()).toEqual(
      [
        'GET /healthz',
        'GET /readyz',
        'GET /v1/machines',
        'GET /v1/machines/{id}',
        'GET /v1/machines/{id}/definition',
        'POST /v1/machines',
        'POST /v1/machines/{id}/instances',
        'GET /v1/instances',
        'GET /v1/instances/{id}',
        'POST /v1/instances/{id}/events',
        'POST /v1/correlate',
        'POST /v1/hooks/{source}',
        'POST /v1/instances/{id}/retry',
        'POST /v1/instances/{id}/cancel',
        'POST /v1/instances/{id}/pause',
        'POST /v1/instances/{id}/resume',
        'POST /v1/instances/{id}/restart',
        'POST /v1/instances/{id}/fork',
        'POST /v1/instances/{id}/migrate',
        'POST /v1/bulk',
        'GET /v1/bulk',
        'GET /v1/bulk/{jobId}',
        'POST /v1/bulk/{jobId}/cancel',
        'GET /v1/instances/{id}/history',
        'GET /v1/instances/{id}/inspect',
        'GET /v1/instances/{id}/stream',
        'GET /v1/stats',
        'GET /v1/tasks',
        'GET /v1/tasks/{id}',
        'POST /v1/tasks/{id}/claim',
        'POST /v1/tasks/{id}/unclaim',
        'POST /v1/tasks/{id}/complete',
        'POST /v1/schedules',
        'GET /v1/schedules',
        'GET /v1/schedules/{id}',
        'DELETE /v1/schedules/{id}',
        'POST /v1/schedules/{id}/pause',
        'POST /v1/schedules/{id}/resume',
        'POST /v1/schedules/{id}/trigger',
        'POST /v1/subscriptions',
        'GET /v1/subscriptions',
        'GET /v1/subscriptions/{id}',
        'DELETE /v1/subscriptions/{id}',
        'GET /v1/deliveries',
        'GET /v1/deliveries/{id}',
        'POST /v1/deliveries/{id}/redeliver',
        'GET /v1/instances/{id}/deliveries',
        'POST /v1/retention/run',
      ].sort(),
    );
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        const where = `${method} ${path}`;
        // Every {param} in the path is declared as a required path parameter.
        for (const [, name] of path.matchAll(/\{(\w+)\}/g))
          expect(op.parameters?.find((p) => p.in === 'path' && p.name === name)?.required, where).toBe(true);
        if (path.startsWith('/v1/')) {
          // Inbound webhooks are authenticated by their signature, not a bearer token.
          expect(op.security, where).toEqual(path.startsWith('/v1/hooks/') ? [] : [{ bearerAuth: [] }]);
          expect(Object.keys(op.responses), where).toEqual(expect.arrayContaining(['400', '401']));
        }
      }
    }
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    // Every $ref resolves to a component.
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThan(5);
    for (const ref of refs) expect(doc.components.schemas, ref).toHaveProperty(ref);
    const start = doc.paths['/v1/machines/{id}/instances']!.post!;
    expect(start.parameters?.map((p) => p.name)).toEqual(expect.arrayContaining(['id', 'idempotency-key', 'wait', 'timeoutMs']));
    expect(Object.keys(start.responses).sort()).toEqual(['200', '201', '400', '401', '403', '404', '409', '413', '415', '422', '503']);
  });

  const plainHtml = 'GET /docs loads Swagger UI from this server, with every operation listed as plain HTML for readers without JavaScript';
  test(plainHtml, async () => {
    const api = await createStandardTestApi();
    const res = await api.request('GET', '/docs', { key: null });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await res.text();
    // Only scripts of this origin: the page works offline.
    expect([...html.matchAll(/<script src="([^"]+)"/g)].map((m) => m[1])).toEqual([
      '/docs/assets/swagger-ui-bundle.js',
      '/docs/assets/docs.js',
    ]);
    const noscript = html.slice(html.indexOf('<noscript>'), html.indexOf('</noscript>'));
    // One section per operation of the OpenAPI document, whatever routes exist.
    const doc = (await (await api.request('GET', '/openapi.json', { key: null })).json()) as { paths: Record<string, object> };
    const operations = Object.values(doc.paths).flatMap((item) => Object.keys(item)).length;
    expect(operations).toBeGreaterThan(40);
    expect(noscript.match(/<section /g)).toHaveLength(operations);
    expect(noscript).toContain('<code>/v1/instances/{id}/events</code>');
    expect(noscript).toContain('href="/openapi.json"');

    const bundle = await api.request('GET', '/docs/assets/swagger-ui-bundle.js', { key: null });
    expect([bundle.status, bundle.headers.get('content-type')]).toEqual([200, 'text/javascript; charset=utf-8']);
    expect((await bundle.text()).length).toBeGreaterThan(100_000);
    const init = await (await api.request('GET', '/docs/assets/docs.js', { key: null })).text();
    expect(init).toContain("url: '/openapi.json'");
    expect(init).toContain('validatorUrl: null');
    // Nothing else of the package (nor of the disk) is served.
    for (const path of [
      '/docs/assets/package.json',
      '/docs/assets/index.html',
      '/docs/assets/../package.json',
      '/docs/assets/%2e%2e/package.json',
    ]) {
      expect((await api.request('GET', path, { key: null })).status, path).toBe(404);
    }
  });

  test('request bodies carry examples', async () => {
    const api = await createStandardTestApi();
    const doc = (await api.call('GET', '/openapi.json', { key: null })).body;
    for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
      for (const [method, op] of Object.entries(item)) {
        const media = op.requestBody?.content?.['application/json'];
        if (!media) continue;
        const schema = media.schema.$ref ? doc.components.schemas[media.schema.$ref.split('/').at(-1)] : media.schema;
        expect(media.example ?? schema.example ?? media.examples, `${method} ${path}`).toBeDefined();
      }
    }
  });

  test('health routes need no credential; readiness follows the dependency', async () => {
    let ready = true;
    const api = await createStandardTestApi({ deps: { ready: async () => ready } });
    expect((await api.call('GET', '/healthz', { key: null })).body).toEqual({ status: 'ok' });
    expect((await api.call('GET', '/readyz', { key: null })).status).toBe(200);
    ready = false;
    const r = await api.call('GET', '/readyz', { key: null });
    expect([r.status, r.body]).toEqual([503, { status: 'not_ready' }]);
  });

  test('unknown routes answer with the error shape and the request id', async () => {
    const api = await createStandardTestApi();
    const r = await api.call('GET', '/v2/nothing', { headers: { 'X-Request-Id': 'trace-123' } });
    expect(r.status).toBe(404);
    expect(r.body).toEqual({ error: { code: 'route_not_found', message: expect.any(String), requestId: 'trace-123' } });
    expect(r.headers.get('x-request-id')).toBe('trace-123');
    const generated = await api.call('GET', '/v1/instances/x', { headers: { 'X-Request-Id': 'bad id with spaces' } });
    expect(generated.body.error.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });
});
