import { contextPath } from '../../runtime/bulk-filter.ts';
import type { BulkFilter } from '../../runtime/bulk-types.ts';
import { ts } from './sql-values.ts';

/**
 * The conditions of an instance filter as SQL over `sk_instance` (with `?` placeholders): the list's filters
 * and a bulk action's (state value and context field equality). The memory store's `matchesFilter`
 * (runtime/bulk-filter.ts) is the same filter in TypeScript.
 */
export function instanceConditions(tenant: string, f: BulkFilter): { where: string[]; params: unknown[] } {
  const where = ['tenant = ?'];
  const params: unknown[] = [tenant];
  const add = (cond: string, ...values: unknown[]) => (where.push(cond), params.push(...values));
  if (f.machineId) add('machine_id = ?', f.machineId);
  if (f.machineVersion) add('machine_version = ?', f.machineVersion);
  // A literal list (equality for one status) the planner matches to the (tenant, status, created_at, id) index;
  // a subquery over a jsonb array cannot be matched to any index and read the whole table.
  if (f.status?.length === 1) add('status = ?', f.status[0]);
  else if (f.status?.length) add(`status in (${f.status.map(() => '?').join(', ')})`, ...f.status);
  // jsonb_exists is the "?" operator spelled as a function ("?" is the placeholder here).
  if (f.state)
    add(
      `(jsonb_exists(tags, ?) or state_value = to_jsonb(?::text) or state_value::text like ?)`,
      f.state,
      f.state,
      `%${JSON.stringify(f.state).replace(/[%_\\]/g, '\\$&')}%`,
    );
  if (f.parentId) add('parent_id = ?', f.parentId);
  if (f.createdAfter) add('created_at >= ?::timestamptz', ts(f.createdAfter));
  if (f.createdBefore) add('created_at < ?::timestamptz', ts(f.createdBefore));
  if (f.updatedAfter) add('updated_at >= ?::timestamptz', ts(f.updatedAfter));
  if (f.updatedBefore) add('updated_at < ?::timestamptz', ts(f.updatedBefore));
  // jsonb equality ignores object key order, as the memory store's deep equality does.
  if (f.stateValue !== undefined) add('state_value = ?::jsonb', JSON.stringify(f.stateValue));
  for (const [path, value] of Object.entries(f.context ?? {})) {
    add('snapshot #> ?::text[] = ?::jsonb', `{${['context', ...contextPath(path)].join(',')}}`, JSON.stringify(value));
  }
  return { where, params };
}
