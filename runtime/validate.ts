import { z } from 'zod';
import { RuntimeError } from './errors.ts';
import type { StartOptions } from './types.ts';

// Ids travel in URLs, effect keys (joined with ":") and logs: keep them plain.
// A chosen id has no ":" so it can never collide with a child instance id (`parent:invokeId:generation`).
const idSchema = z.string().min(1).max(200).regex(/^[A-Za-z0-9._~-]+$/, 'letters, digits, ".", "_", "~" or "-" only');
const anyIdSchema = z.string().min(1).max(600).regex(/^[A-Za-z0-9._~:-]+$/);
const tenantSchema = z.string().min(1).max(100).regex(/^[A-Za-z0-9._-]+$/);
const keySchema = z.string().min(1).max(255);
const callerSchema = z.object({ id: z.string().min(1).max(200), roles: z.array(z.string().min(1)).optional() }).strict();

const startSchema = z
  .object({
    machine: z.string().min(1).max(210),
    input: z.unknown().optional(),
    instanceId: idSchema.optional(),
    idempotencyKey: keySchema.optional(),
    tenant: tenantSchema.optional(),
    caller: callerSchema.optional(),
  })
  .strict();

const eventSchema = z.looseObject({ type: z.string().min(1).max(200) });

/** Checks `runtime.start` options. */
export function checkStartOptions(options: StartOptions): void {
  parse('start', startSchema, options);
  checkJson('start', 'input', options.input);
}

/** Checks an event object: `{ type: string, ...JSON payload }`, not an internal XState event. */
export function checkEvent(event: unknown): void {
  parse('send', eventSchema, event);
  const type = (event as { type: string }).type;
  if (type.startsWith('xstate.')) throw RuntimeError.invalidArgument('send', `event type "${type}" is reserved for the runtime (xstate.* events come from steps, timers and children)`);
  checkJson('send', 'event', event);
}

export function checkId(fn: string, name: string, value: unknown): void {
  const r = anyIdSchema.safeParse(value);
  if (!r.success) throw RuntimeError.invalidArgument(fn, `${name} must be an instance id: letters, digits, ".", "_", "~", ":" or "-" (got ${JSON.stringify(value)})`);
}

export function checkTenant(fn: string, value: unknown): void {
  if (!tenantSchema.safeParse(value).success) throw RuntimeError.invalidArgument(fn, `tenant must be a plain string id (got ${JSON.stringify(value)})`);
}

/** Inputs and payloads are stored as JSON: refuse what JSON cannot represent faithfully. */
export function checkJson(fn: string, name: string, value: unknown): void {
  const seen = new Set<unknown>();
  const walk = (v: unknown, path: string): void => {
    if (v === null || typeof v === 'string' || typeof v === 'boolean' || v === undefined) return;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw RuntimeError.invalidArgument(fn, `${path} is ${v}, which JSON cannot store`);
      return;
    }
    if (typeof v !== 'object') throw RuntimeError.invalidArgument(fn, `${path} is a ${typeof v}, which JSON cannot store`);
    if (seen.has(v)) throw RuntimeError.invalidArgument(fn, `${path} is a circular reference`);
    seen.add(v);
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${path}[${i}]`));
    else if (v instanceof Date) throw RuntimeError.invalidArgument(fn, `${path} is a Date: send an ISO string`);
    else if (Object.getPrototypeOf(v) !== Object.prototype && Object.getPrototypeOf(v) !== null) throw RuntimeError.invalidArgument(fn, `${path} must be a plain object`);
    else for (const [k, x] of Object.entries(v)) walk(x, `${path}.${k}`);
    seen.delete(v);
  };
  walk(value, name);
}

function parse<T>(fn: string, schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const where = issue.path.length ? issue.path.join('.') : 'argument';
    throw RuntimeError.invalidArgument(fn, `${where}: ${issue.message}`, { issues: r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) });
  }
  return r.data;
}
