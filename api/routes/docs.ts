import type { OpenAPIHono } from '@hono/zod-openapi';
import type { ApiEnv } from '../env.ts';

/** The OpenAPI document's fixed parts. */
export const OPENAPI_INFO = {
  openapi: '3.1.0',
  info: {
    title: 'Statekeeper API',
    version: '1',
    description:
      'Durable workflows: start instances of registered machines, send them events, follow their steps and history. ' +
      'Every /v1 route needs `Authorization: Bearer <API key or JWT>`; the credential fixes the tenant and the roles ' +
      '(viewer reads, operator starts and acts on instances, admin both). Errors are `{ error: { code, message, requestId } }`.',
  },
} as const;

type Doc = ReturnType<OpenAPIHono<ApiEnv>['getOpenAPI31Document']>;

/** `GET /openapi.json` (OpenAPI 3.1 from the route schemas) and `GET /docs` (the same as plain HTML). */
export function registerDocsRoutes(app: OpenAPIHono<ApiEnv>): void {
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    description: 'An API key (sk_…) or a JWT (HS256/RS256) carrying sub, tenant and roles claims',
  });
  let doc: Doc | undefined;
  const document = () => (doc ??= app.getOpenAPI31Document(OPENAPI_INFO));
  app.get('/openapi.json', (c) => c.json(document()));
  app.get('/docs', (c) => {
    c.header('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'");
    return c.html(renderDocs(document()));
  });
}

const esc = (s: unknown) => String(s ?? '').replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** A dependency-free HTML page listing every operation of the document. */
export function renderDocs(doc: Doc): string {
  const ops: string[] = [];
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const method of ['get', 'post', 'put', 'patch', 'delete'] as const) {
      const op = (item as Record<string, any>)[method];
      if (!op) continue;
      const params = (op.parameters ?? []).map((p: any) => `<li><code>${esc(p.name)}</code> (${esc(p.in)}${p.required ? ', required' : ''})${p.description ? ` – ${esc(p.description)}` : ''}</li>`).join('');
      const body = op.requestBody?.content ? Object.keys(op.requestBody.content).map(esc).join(', ') : '';
      const responses = Object.entries(op.responses ?? {}).map(([code, r]: [string, any]) => `<li><code>${esc(code)}</code> ${esc(r.description)}</li>`).join('');
      ops.push(`<section id="${esc(op.operationId ?? `${method}-${path}`)}">
<h3><span class="m ${method}">${method.toUpperCase()}</span> <code>${esc(path)}</code></h3>
<p>${esc(op.summary)}${op.security?.length ? ' <em>(bearer credential)</em>' : ''}</p>
${params ? `<h4>Parameters</h4><ul>${params}</ul>` : ''}${body ? `<h4>Body</h4><p>${body}</p>` : ''}<h4>Responses</h4><ul>${responses}</ul>
</section>`);
    }
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(doc.info.title)}</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}section{border-top:1px solid #ddd;padding:.5rem 0}
.m{display:inline-block;min-width:4rem;font-weight:bold}.get{color:#075}.post{color:#05a}h4{margin:.5rem 0 0}</style></head>
<body><h1>${esc(doc.info.title)} <small>v${esc(doc.info.version)}</small></h1>
<p>${esc(doc.info.description)}</p><p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI ${esc(doc.openapi)}).</p>
${ops.join('\n')}
</body></html>`;
}
