import type { Context } from 'hono';
import type { RequestIdVariables } from 'hono/request-id';
import { z } from 'zod';
import type { CallOptions } from '../../actors/clients/index.ts';
import { LabError } from '../errors.ts';
import type { SystemName } from '../operations.ts';

/** Hono environment of the lab service. */
export interface LabEnv {
  Variables: RequestIdVariables;
}

/** Header carrying the idempotency key on every mutating route. */
export const IDEMPOTENCY_HEADER = 'Idempotency-Key';

/** Header asking a mutating route to answer from its idempotency record only (`only`), applying nothing. */
export const LOOKUP_HEADER = 'Idempotency-Lookup';

/**
 * The {@link CallOptions} of a request: the `Idempotency-Key` header, the
 * lookup-only flag and the request's abort signal (fired when the client goes away).
 */
export function callOptions(c: Context<LabEnv>, system: SystemName, operation: string): CallOptions {
  const idempotencyKey = c.req.header(IDEMPOTENCY_HEADER);
  if (!idempotencyKey) {
    throw new LabError(
      'missing_idempotency_key',
      system,
      operation,
      `send an ${IDEMPOTENCY_HEADER} header: every mutating lab route is idempotent by it`,
      false,
      400,
    );
  }
  const lookupOnly = c.req.header(LOOKUP_HEADER) === 'only';
  return { idempotencyKey, signal: c.req.raw.signal, ...(lookupOnly && { lookupOnly }) };
}

/** Parses the JSON body with a schema; a bad body is a non-retryable 400. */
export async function jsonBody<S extends z.ZodType>(
  c: Context<LabEnv>,
  schema: S,
  system: SystemName | 'lab',
  operation: string,
): Promise<z.infer<S>> {
  let raw: unknown;
  try {
    raw = await c.req.json();
  } catch {
    throw LabError.invalid(system, operation, 'the body is not JSON');
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw LabError.invalid(system, operation, z.prettifyError(parsed.error).replaceAll('\n', '; '));
  return parsed.data;
}

/** A path parameter that must be a positive integer (NetBox ids). */
export function intParam(c: Context<LabEnv>, name: string, system: SystemName, operation: string): number {
  const value = Number(c.req.param(name));
  if (!Number.isInteger(value) || value <= 0) throw LabError.invalid(system, operation, `${name} must be a positive integer`);
  return value;
}

/** A required path parameter. */
export function param(c: Context<LabEnv>, name: string): string {
  return c.req.param(name) ?? '';
}

/** Body schemas shared by the route groups. */
export const schemas = {
  status: z.object({ status: z.enum(['active', 'suspended']) }),
  tenantStatus: z.object({ status: z.enum(['active', 'provisioning', 'suspended']) }),
  parameterValues: z.array(z.tuple([z.string(), z.union([z.string(), z.number(), z.boolean()]), z.string().optional()])).min(1),
};
