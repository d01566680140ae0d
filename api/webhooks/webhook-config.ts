import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { CORRELATION_KEY_RE, type RegisteredMachine } from '../../runtime/index.ts';

/** RFC 6901 JSON pointer: `""` (the whole body) or `/a/b~1c/0`. */
const POINTER_RE = /^(\/([^~/]|~[01])*)*$/;
const Pointer = z.string().max(300).regex(POINTER_RE, 'a JSON pointer such as "/data/object/id"');

/** A mapped value: a literal string, or `{ "from": "<JSON pointer>" }` read from the verified body. */
const Expr = z.union([z.string().min(1).max(500), z.object({ from: Pointer }).strict()]);

const SourceSchema = z
  .object({
    /** The path segment: `POST /v1/hooks/<name>`. */
    name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'lower-case letters, digits, "_" or "-" (at most 63)'),
    /** Signature scheme: `hmac` (x-statekeeper-timestamp/-signature), `stripe` (Stripe-Signature), `github` (X-Hub-Signature-256). */
    kind: z.enum(['hmac', 'stripe', 'github']),
    /** The shared secret, or the name of the environment variable holding it (keeps it out of the file). */
    secret: z.string().min(16).max(512).optional(),
    secretEnv: z
      .string()
      .regex(/^[A-Z_][A-Z0-9_]{0,127}$/)
      .optional(),
    /** The tenant whose instances this source reaches (the route takes no API key). */
    tenant: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,100}$/)
      .default('default'),
    /** Roles of the webhook as a caller: events guarded by `meta.roles` need one of them (default none). */
    roles: z
      .array(z.string().regex(/^[A-Za-z0-9._:-]{1,100}$/))
      .max(20)
      .default([]),
    /** How far a signed timestamp may be from this server's clock (hmac, stripe), in seconds. */
    toleranceSeconds: z.number().int().min(1).max(3600).default(300),
    /** How long a delivery id is remembered to refuse it again (at least twice the tolerance), in seconds. */
    replayWindowSeconds: z
      .number()
      .int()
      .min(60)
      .max(30 * 86_400)
      .default(3 * 86_400),
    /** Largest accepted body, in bytes. */
    maxBodyBytes: z
      .number()
      .int()
      .min(1024)
      .max(1024 * 1024)
      .default(256 * 1024),
    /** Deliver only bodies whose values at these pointers equal these strings; others are acknowledged (202) and ignored. */
    when: z.record(Pointer, z.string().max(500)).optional(),
    /** From the body to `POST /v1/correlate`'s `{ machine?, key, value, event, all? }`. */
    map: z
      .object({
        machine: z
          .string()
          .regex(/^[A-Za-z0-9._-]{1,100}$/)
          .optional(),
        key: z.string().regex(CORRELATION_KEY_RE, 'a correlation key name'),
        value: Expr,
        event: z
          .object({
            type: Expr,
            fields: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/), Expr).optional(),
          })
          .strict(),
        all: z.boolean().optional(),
      })
      .strict(),
  })
  .strict()
  .refine((s) => (s.secret === undefined) !== (s.secretEnv === undefined), { message: 'give exactly one of secret and secretEnv' });

const FileSchema = z.object({ sources: z.array(SourceSchema).max(100) }).strict();

/** A mapped value as configured. */
export type WebhookExpr = z.infer<typeof Expr>;

/** One configured inbound webhook source, its secret resolved. */
export type WebhookSource = Omit<z.infer<typeof SourceSchema>, 'secret' | 'secretEnv'> & { readonly secret: string };

/** What {@link parseWebhookSources} reads: the `{ sources: [...] }` document. */
export type WebhookSourcesInput = z.input<typeof FileSchema>;

/**
 * Checks a `{ sources: [...] }` document and resolves each `secretEnv` from `env`.
 * @throws Error listing every problem with its path (start-up stops on it).
 */
export function parseWebhookSources(doc: unknown, env: NodeJS.ProcessEnv = process.env): WebhookSource[] {
  const r = FileSchema.safeParse(doc);
  if (!r.success) {
    throw new Error(`Invalid webhook sources:\n${r.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n')}`);
  }
  const names = new Set<string>();
  return r.data.sources.map(({ secret, secretEnv, ...s }) => {
    if (names.has(s.name)) throw new Error(`Invalid webhook sources: the name "${s.name}" is used twice`);
    names.add(s.name);
    const resolved = secret ?? env[secretEnv!];
    if (!resolved || resolved.length < 16) {
      throw new Error(`Invalid webhook sources: ${s.name}.secretEnv: ${secretEnv} must be set to a secret of at least 16 characters`);
    }
    return { ...s, replayWindowSeconds: Math.max(s.replayWindowSeconds, 2 * s.toleranceSeconds), secret: resolved };
  });
}

/**
 * The sources of the server's configuration: `STATEKEEPER_WEBHOOKS_FILE` (a JSON or YAML file) and/or
 * `STATEKEEPER_WEBHOOKS` (the same document as JSON text), both `{ "sources": [...] }`.
 */
export function loadWebhookSources(options: { file?: string; json?: string; env?: NodeJS.ProcessEnv }): WebhookSource[] {
  const docs: unknown[] = [];
  if (options.file) {
    const text = readFileSync(options.file, 'utf8');
    docs.push(/\.ya?ml$/i.test(options.file) ? parseYaml(text) : JSON.parse(text));
  }
  if (options.json) docs.push(JSON.parse(options.json));
  const sources = docs.flatMap((d) => ((d as { sources?: unknown[] })?.sources ?? [d]) as unknown[]);
  return docs.length ? parseWebhookSources({ sources }, options.env) : [];
}

/**
 * Refuses sources whose mapping can never deliver: a machine not registered, a key it (or, without a
 * machine, any registered machine) does not declare.
 */
export function checkWebhookTargets(sources: readonly WebhookSource[], registry: { list(): RegisteredMachine[] }): void {
  for (const s of sources) {
    const regs = registry.list().filter((r) => s.map.machine === undefined || r.id === s.map.machine);
    if (s.map.machine !== undefined && regs.length === 0) {
      throw new Error(`Webhook source "${s.name}": machine "${s.map.machine}" is not registered`);
    }
    if (!regs.some((r) => r.correlation?.keys.includes(s.map.key))) {
      throw new Error(`Webhook source "${s.name}": no registered machine declares the correlation key "${s.map.key}"`);
    }
  }
}
