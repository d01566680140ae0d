import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { effectiveRoles, parseRoles, TENANT_RE, type Authenticator, type Principal } from './principal.ts';

/**
 * A stored API key. The secret itself is never stored: only its SHA-256,
 * which is enough for a 256-bit random secret (no dictionary to attack).
 */
export interface ApiKeyRecord {
  /** Public part of the key (`sk_<id>_<secret>`), used to find the row. */
  id: string;
  tenant: string;
  /** Unique per tenant among keys not revoked; the history `actor` is `apikey:<name>`. */
  name: string;
  roles: string[];
  /** Hex SHA-256 of the whole key string. */
  secretHash: string;
  createdAt: Date;
  revokedAt: Date | null;
}

/** Storage of API keys (Postgres in production, memory in simulations). */
export interface ApiKeyStore {
  /** Adds a key; rejects with {@link ApiKeyNameTakenError} when the tenant has a live key of that name. */
  insert(record: ApiKeyRecord): Promise<void>;
  /** Creates or replaces the key with this id (used for the development key). */
  put(record: ApiKeyRecord): Promise<void>;
  get(id: string): Promise<ApiKeyRecord | undefined>;
  list(tenant?: string): Promise<ApiKeyRecord[]>;
  /** Marks a key revoked; false when no live key has that id. */
  revoke(id: string, at: Date): Promise<boolean>;
}

/** A tenant already has a live key with that name. */
export class ApiKeyNameTakenError extends Error {
  override name = 'ApiKeyNameTakenError';
  constructor(tenant: string, keyName: string) {
    super(`Tenant "${tenant}" already has an API key named "${keyName}"; choose another name or revoke that key first.`);
  }
}

const KEY_RE = /^sk_([a-z0-9]{1,32})_([A-Za-z0-9_-]{32,128})$/;
const NAME_RE = /^[A-Za-z0-9._@-]{1,100}$/;

/** SHA-256 (hex) of a key string. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** The id inside a key string, or undefined when it is not shaped like one of ours. */
export function apiKeyId(key: string): string | undefined {
  return KEY_RE.exec(key)?.[1];
}

/** A new random key string `sk_<id>_<secret>` (16 hex id, 256-bit secret). */
export function generateApiKey(id = randomBytes(8).toString('hex')): string {
  return `sk_${id}_${randomBytes(32).toString('base64url')}`;
}

/** Options of {@link createApiKey}. */
export interface CreateApiKeyOptions {
  tenant: string;
  name: string;
  roles: string | readonly string[];
  /** Fixed id and key string (the development key); a random key otherwise. */
  id?: string;
  key?: string;
  now?: Date;
}

/** Checks the options and builds the record of a key; returns the key string, shown once. */
export function buildApiKey(options: CreateApiKeyOptions): { key: string; record: ApiKeyRecord } {
  if (!TENANT_RE.test(options.tenant)) throw new Error(`Invalid tenant "${options.tenant}": use 1-100 letters, digits, ".", "_" or "-".`);
  if (!NAME_RE.test(options.name)) throw new Error(`Invalid key name "${options.name}": use 1-100 letters, digits, ".", "_", "@" or "-".`);
  const roles = parseRoles(options.roles);
  if (roles.length === 0) throw new Error('A key needs at least one role, e.g. --roles viewer.');
  const key = options.key ?? generateApiKey(options.id);
  const id = apiKeyId(key);
  if (!id || (options.id && id !== options.id)) throw new Error('The key string is not of the form sk_<id>_<secret>.');
  return {
    key,
    record: {
      id,
      tenant: options.tenant,
      name: options.name,
      roles,
      secretHash: hashApiKey(key),
      createdAt: options.now ?? new Date(),
      revokedAt: null,
    },
  };
}

/**
 * Creates a key in a store.
 * @example
 * ```ts
 * const { key } = await createApiKey(store, { tenant: 'acme', name: 'ci', roles: 'operator' });
 * // show `key` once; only its hash is kept
 * ```
 */
export async function createApiKey(store: ApiKeyStore, options: CreateApiKeyOptions): Promise<{ key: string; record: ApiKeyRecord }> {
  const built = buildApiKey(options);
  await store.insert(built.record);
  return built;
}

/** Authenticates `sk_…` bearer tokens against a key store. */
export class ApiKeyAuthenticator implements Authenticator {
  constructor(private readonly store: ApiKeyStore) {}

  async authenticate(token: string): Promise<Principal | undefined> {
    const id = apiKeyId(token);
    if (!id) return undefined;
    const record = await this.store.get(id);
    if (!record || record.revokedAt) return undefined;
    const expected = Buffer.from(record.secretHash, 'hex');
    const actual = Buffer.from(hashApiKey(token), 'hex');
    if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return undefined;
    return { subject: `apikey:${record.name}`, tenant: record.tenant, roles: effectiveRoles(record.roles), via: 'api_key' };
  }
}
