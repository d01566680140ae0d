import { createRequire } from 'node:module';
import path from 'node:path';
import { serveStatic } from '@hono/node-server/serve-static';
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

/** Swagger UI's prebuilt browser bundle, from its npm package (served from this server: no CDN). */
const SWAGGER_UI_DIR = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
/** The files of it the page loads; nothing else of the package is served. */
const SWAGGER_FILES = new Set(['swagger-ui.css', 'swagger-ui-bundle.js', 'favicon-32x32.png']);

/**
 * Starts Swagger UI on `/openapi.json`. `validatorUrl: null` keeps it from
 * sending the document to an outside validator; "Authorize" takes an API key
 * or JWT for "Try it out".
 */
const DOCS_SCRIPT = `window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  validatorUrl: null,
  docExpansion: 'list',
  defaultModelsExpandDepth: 0,
  defaultModelRendering: 'example',
  displayRequestDuration: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: 'BaseLayout',
});
`;

/** The docs page's content security policy: scripts and styles from this server only (Swagger UI sets inline styles). */
const DOCS_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
].join('; ');

/**
 * `GET /openapi.json` (OpenAPI 3.1 from the route schemas) and `GET /docs`:
 * the reference rendered by Swagger UI from that document (request and
 * response schemas, examples, "Try it out"), with a plain HTML listing for
 * readers without JavaScript.
 */
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
    c.header('Content-Security-Policy', DOCS_CSP);
    return c.html(docsPage(document()));
  });
  app.get('/docs/assets/docs.js', (c) => {
    c.header('Content-Type', 'text/javascript; charset=utf-8');
    return c.body(DOCS_SCRIPT);
  });
  const swaggerFiles = serveStatic({ root: SWAGGER_UI_DIR, rewriteRequestPath: (p) => p.slice('/docs/assets'.length) });
  app.get('/docs/assets/*', async (c, next) => {
    if (!SWAGGER_FILES.has(c.req.path.slice('/docs/assets/'.length))) return next();
    c.header('Cache-Control', 'public, max-age=86400');
    return swaggerFiles(c, next);
  });
}

/** The docs page: Swagger UI, and the plain listing in `<noscript>`. */
function docsPage(doc: Doc): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(doc.info.title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<noscript>${renderDocs(doc)}</noscript>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/docs.js"></script>
</body></html>`;
}

const esc = (s: unknown) => String(s ?? '').replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** Every operation of the document as plain HTML (the page for readers without JavaScript). */
export function renderDocs(doc: Doc): string {
  const ops: string[] = [];
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const method of ['get', 'post', 'put', 'patch', 'delete'] as const) {
      const op = (item as Record<string, any>)[method];
      if (!op) continue;
      const params = (op.parameters ?? [])
        .map(
          (p: any) =>
            `<li><code>${esc(p.name)}</code> (${esc(p.in)}${p.required ? ', required' : ''})` +
            `${p.description ? ` – ${esc(p.description)}` : ''}</li>`,
        )
        .join('');
      const body = op.requestBody?.content ? Object.keys(op.requestBody.content).map(esc).join(', ') : '';
      const responses = Object.entries(op.responses ?? {})
        .map(([code, r]: [string, any]) => `<li><code>${esc(code)}</code> ${esc(r.description)}</li>`)
        .join('');
      ops.push(`<section id="${esc(op.operationId ?? `${method}-${path}`)}">
<h3><span class="m ${method}">${method.toUpperCase()}</span> <code>${esc(path)}</code></h3>
<p>${esc(op.summary)}${op.security?.length ? ' <em>(bearer credential)</em>' : ''}</p>
${params ? `<h4>Parameters</h4><ul>${params}</ul>` : ''}${body ? `<h4>Body</h4><p>${body}</p>` : ''}<h4>Responses</h4><ul>${responses}</ul>
</section>`);
    }
  }
  return `<h1>${esc(doc.info.title)} <small>v${esc(doc.info.version)}</small></h1>
<p>${esc(doc.info.description)}</p><p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI ${esc(doc.openapi)}).</p>
${ops.join('\n')}`;
}
