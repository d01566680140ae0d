/** Who is calling: resolved from an API key or a JWT by the auth middleware. */
export interface Principal {
  /** Recorded as the `actor` of every history row the request writes. */
  readonly subject: string;
  /** Every call is confined to this tenant; other tenants' instances do not exist for it. */
  readonly tenant: string;
  /** Effective roles (route roles expanded, see {@link effectiveRoles}), also passed to the runtime's event checks. */
  readonly roles: readonly string[];
  readonly via: 'api_key' | 'jwt';
}

/** Turns a bearer token into a principal; `undefined` for an unknown, revoked or invalid one. */
export interface Authenticator {
  authenticate(token: string): Promise<Principal | undefined>;
}

/** Roles the routes check; any other role string only matters to machines' `meta.roles`. */
export const ROUTE_ROLES = ['viewer', 'operator', 'admin'] as const;
/** One of {@link ROUTE_ROLES}. */
export type RouteRole = (typeof ROUTE_ROLES)[number];

const IMPLIES: Record<RouteRole, RouteRole[]> = { admin: ['operator', 'viewer'], operator: ['viewer'], viewer: [] };

/** Tenant ids as the runtime accepts them. */
export const TENANT_RE = /^[A-Za-z0-9._-]{1,100}$/;
/** Role names: plain tokens, as written in machines' `meta.roles`. */
export const ROLE_RE = /^[A-Za-z0-9._:-]{1,100}$/;

/**
 * Expands route roles: `admin` includes `operator`, which includes `viewer`.
 * @remarks Machine-declared roles (e.g. `finance`) are never implied: an admin
 * needs them granted to send events guarded by them.
 */
export function effectiveRoles(roles: readonly string[]): string[] {
  const out = new Set<string>();
  for (const r of roles) {
    out.add(r);
    for (const implied of IMPLIES[r as RouteRole] ?? []) out.add(implied);
  }
  return [...out].sort();
}

/** Parses a comma- or space-separated role list, refusing malformed names. */
export function parseRoles(value: string | readonly string[]): string[] {
  const list = typeof value === 'string' ? value.split(/[\s,]+/) : [...value];
  const roles = list.map((r) => r.trim()).filter(Boolean);
  const bad = roles.find((r) => !ROLE_RE.test(r));
  if (bad !== undefined) throw new Error(`Invalid role "${bad}": use letters, digits, ".", "_", ":" or "-".`);
  return [...new Set(roles)];
}
