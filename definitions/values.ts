/**
 * Values in a definition that are computed when used: `{ "$expr": "<CEL>" }`
 * (evaluated over the variables of the place: `context`, `event`, `input`) and
 * `{ "$ref": "<mapper name>" }` (a mapper from the implementation catalog).
 * Anything else is data.
 */
import type { MapperImplementation } from './catalog.ts';
import { evaluateExpression } from './expressions.ts';

/** `{ "$expr": string }`. */
export interface ExprValue {
  readonly $expr: string;
}
/** `{ "$ref": string }`. */
export interface RefValue {
  readonly $ref: string;
}

/** True for `{ "$expr": "..." }` (and no other key). */
export function isExpr(v: unknown): v is ExprValue {
  return isPlain(v) && Object.keys(v).length === 1 && typeof v.$expr === 'string';
}

/** True for `{ "$ref": "..." }` (and no other key). */
export function isRef(v: unknown): v is RefValue {
  return isPlain(v) && Object.keys(v).length === 1 && typeof v.$ref === 'string';
}

/** True when the value holds an expression or a reference anywhere. */
export function isDynamic(v: unknown): boolean {
  if (isExpr(v) || isRef(v)) return true;
  if (Array.isArray(v)) return v.some(isDynamic);
  if (isPlain(v)) return Object.values(v).some(isDynamic);
  return false;
}

/** Computes a value: expressions evaluated over `vars`, references called through `mappers`. */
export function resolveValue(
  v: unknown,
  vars: Record<string, unknown>,
  mappers: Readonly<Record<string, MapperImplementation>> = {},
): unknown {
  if (isExpr(v)) return evaluateExpression(v.$expr, vars);
  if (isRef(v)) {
    const fn = mappers[v.$ref];
    if (!fn) throw new Error(`no mapper "${v.$ref}" is registered`);
    return fn(vars as never);
  }
  if (Array.isArray(v)) return v.map((x) => resolveValue(x, vars, mappers));
  if (isPlain(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolveValue(x, vars, mappers)]));
  return v;
}

/** A plain JSON object. */
export function isPlain(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}
