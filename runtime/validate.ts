import { z } from 'zod';
import { RuntimeError } from './errors.ts';
import { badString, unstorable } from './storable.ts';
import type { StartOptions } from './types.ts';

const storableMessage = { message: 'must not contain NUL characters or lone surrogates' };
/** Free text that is stored (keys, caller ids, roles, event types). */
const text = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((s) => badString(s) === undefined, storableMessage);

// Ids travel in URLs, effect keys (joined with ":") and logs: keep them plain.
// A chosen id has no ":" so it can never collide with a child instance id (`parent:invokeId:generation`).
const idSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9._~-]+$/, 'letters, digits, ".", "_", "~" or "-" only');
const anyIdSchema = z
  .string()
  .min(1)
  .max(600)
  .regex(/^[A-Za-z0-9._~:-]+$/);
const tenantSchema = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9._-]+$/);
const keySchema = text(255);
const callerSchema = z.object({ id: text(200), roles: z.array(text(200)).optional() }).strict();

const startSchema = z
  .object({
    machine: text(210),
    input: z.unknown().optional(),
    instanceId: idSchema.optional(),
    idempotencyKey: keySchema.optional(),
    tenant: tenantSchema.optional(),
    caller: callerSchema.optional(),
  })
  .strict();

const eventSchema = z.looseObject({ type: text(200) });

/** Checks `runtime.start` options. */
export function checkStartOptions(options: StartOptions): void {
  parse('start', startSchema, options);
  checkJson('start', 'input', options.input);
}

/** Checks an event object: `{ type: string, ...JSON payload }`, not an internal XState event. */
export function checkEvent(event: unknown): void {
  parse('send', eventSchema, event);
  const type = (event as { type: string }).type;
  if (type.startsWith('xstate.'))
    throw RuntimeError.invalidArgument(
      'send',
      `event type "${type}" is reserved for the runtime (xstate.* events come from steps, timers and children)`,
    );
  checkJson('send', 'event', event);
}

export function checkId(fn: string, name: string, value: unknown): void {
  const r = anyIdSchema.safeParse(value);
  if (!r.success)
    throw RuntimeError.invalidArgument(
      fn,
      `${name} must be an instance id: letters, digits, ".", "_", "~", ":" or "-" (got ${JSON.stringify(value)})`,
    );
}

export function checkTenant(fn: string, value: unknown): void {
  if (!tenantSchema.safeParse(value).success)
    throw RuntimeError.invalidArgument(fn, `tenant must be a plain string id (got ${JSON.stringify(value)})`);
}

/**
 * Inputs and payloads are stored as JSON: refuse what JSON cannot represent
 * faithfully (see {@link unstorable}), before anything is hashed or stored.
 */
export function checkJson(fn: string, name: string, value: unknown): void {
  if (value === undefined) return;
  const bad = unstorable(value, name);
  if (bad) throw RuntimeError.invalidArgument(fn, `${bad.path} is ${bad.reason}, which cannot be stored`, { path: bad.path });
}

function parse<T>(fn: string, schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const where = issue.path.length ? issue.path.join('.') : 'argument';
    throw RuntimeError.invalidArgument(fn, `${where}: ${issue.message}`, {
      issues: r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    });
  }
  return r.data;
}
