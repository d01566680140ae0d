/**
 * Instance ids are scoped by tenant. A caller names an instance by its
 * **public id** (the id it chose, or the UUID generated for it); the store
 * keys a chosen id by its **stored id**, the public id qualified by the
 * tenant: `acme:order-1` (a generated id is unique everywhere and is stored
 * as it is). Two tenants may each have an instance `order-1`, and one
 * tenant can neither find nor block the other's (a chosen id taken elsewhere
 * gave a 409: an existence oracle and a way to squat ids).
 *
 * @remarks Why a qualified id and not a `(tenant, id)` key: every row that
 * points at an instance (history, effects, child instances, parent links,
 * sends to a parent, tasks, the hash chain) already keys on the one text id,
 * and effect ids and child instance ids are built from it, so they are
 * scoped too without a change to the schema or the SQL. Public ids contain no
 * tenant, and a tenant name has no `:`, so the stored forms of two tenants
 * never meet. The tenant `default` (the runtime used without tenants) keeps
 * its ids unqualified, as they were stored before. Rows stored before ids
 * were scoped keep their unqualified ids and are still found (with the
 * tenant check every read makes).
 */

/** The tenant of a runtime used without tenants; its stored ids are its public ids. */
export const DEFAULT_TENANT = 'default';

/** The stored id of the instance `publicId` of `tenant`. */
export function storedId(tenant: string, publicId: string): string {
  return tenant === DEFAULT_TENANT ? publicId : `${tenant}:${publicId}`;
}

/** The id `tenant` knows a stored instance (or effect) id by. */
export function publicId(tenant: string, stored: string): string {
  const prefix = `${tenant}:`;
  return tenant !== DEFAULT_TENANT && stored.startsWith(prefix) ? stored.slice(prefix.length) : stored;
}
