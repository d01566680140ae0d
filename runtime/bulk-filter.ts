import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import type { BulkFilter } from './bulk-types.ts';
import { INSTANCE_STATUSES } from './bulk-types.ts';
import { RuntimeError } from './errors.ts';
import type { InstanceRecord } from './ports.ts';
import { isStorableDate, unstorable } from './storable.ts';

/** A context path: dot-separated keys of plain characters (`customer.tier`, `results.subscriber.subscriberId`). */
const CONTEXT_PATH = /^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+){0,9}$/;

const name = z.string().min(1).max(200);
const date = z.date().refine(isStorableDate, 'a date from year 1 to 9999');
const json = z.unknown().refine((v) => v !== undefined && unstorable(v, 'value') === undefined, 'a JSON value Postgres can store');

const filterSchema = z
  .object({
    machineId: name.optional(),
    machineVersion: name.optional(),
    status: z
      .array(z.enum(INSTANCE_STATUSES as [string, ...string[]]))
      .max(4)
      .optional(),
    state: name.optional(),
    parentId: z.string().min(1).max(600).optional(),
    createdAfter: date.optional(),
    createdBefore: date.optional(),
    updatedAfter: date.optional(),
    updatedBefore: date.optional(),
    stateValue: json.optional(),
    context: z
      .record(z.string().regex(CONTEXT_PATH, 'a dot path of up to 10 keys'), json)
      .refine((c) => Object.keys(c).length <= 20, 'at most 20 context fields')
      .optional(),
  })
  .strict();

/** Checks a bulk filter; `invalid_argument` naming the first problem. */
export function checkBulkFilter(filter: unknown): BulkFilter {
  const res = filterSchema.safeParse(filter);
  if (res.success) return res.data as BulkFilter;
  const issue = res.error.issues[0]!;
  throw RuntimeError.invalidArgument('bulk', `filter${issue.path.length ? `.${issue.path.join('.')}` : ''}: ${issue.message}`);
}

/** The keys of a context path. */
export function contextPath(path: string): string[] {
  return path.split('.');
}

/** A bulk filter as stored in a job row (dates as ISO strings) and back. */
export function storedFilter(filter: BulkFilter): Record<string, unknown> {
  return JSON.parse(JSON.stringify(filter)) as Record<string, unknown>;
}

export function filterFromStored(stored: Record<string, unknown>): BulkFilter {
  const out: Record<string, unknown> = { ...stored };
  for (const k of ['createdAfter', 'createdBefore', 'updatedAfter', 'updatedBefore'])
    if (typeof out[k] === 'string') out[k] = new Date(out[k]);
  return out as BulkFilter;
}

/**
 * Whether an instance row matches the filter: the memory store's list and bulk selection, the same conditions as
 * the Postgres store's SQL (`adapters/postgres/instance-filter-sql.ts`).
 */
export function matchesFilter(i: InstanceRecord, tenant: string, f: BulkFilter): boolean {
  const context = (i.snapshot as { context?: unknown } | null)?.context;
  return (
    i.tenant === tenant &&
    (!f.machineId || i.machineId === f.machineId) &&
    (!f.machineVersion || i.machineVersion === f.machineVersion) &&
    (!f.status?.length || f.status.includes(i.status)) &&
    (!f.state || i.tags.includes(f.state) || stateNames(i.stateValue).includes(f.state)) &&
    (!f.parentId || i.parentId === f.parentId) &&
    (!f.createdAfter || i.createdAt >= f.createdAfter) &&
    (!f.createdBefore || i.createdAt < f.createdBefore) &&
    (!f.updatedAfter || i.updatedAt >= f.updatedAfter) &&
    (!f.updatedBefore || i.updatedAt < f.updatedBefore) &&
    (f.stateValue === undefined || isDeepStrictEqual(i.stateValue, f.stateValue)) &&
    Object.entries(f.context ?? {}).every(([path, value]) => isDeepStrictEqual(valueAt(context, contextPath(path)), value))
  );
}

function valueAt(v: unknown, keys: string[]): unknown {
  let at = v;
  for (const k of keys) {
    if (at === null || typeof at !== 'object' || Array.isArray(at)) return undefined;
    at = (at as Record<string, unknown>)[k];
  }
  return at;
}

/** Every state name appearing in a state value (for the `state` filter). */
export function stateNames(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (!value || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => [k, ...stateNames(v)]);
}
