import { readFile } from 'node:fs/promises';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Runtime, Wakeups } from '../runtime/index.ts';
import { ApiKeyAuthenticator } from './auth/api-keys.ts';
import { CachedApiKeyStore } from './auth/key-cache.ts';
import { ensureDevKey } from './auth/dev-key.ts';
import { combineAuthenticators, createJwtAuthenticator } from './auth/jwt.ts';
import { PgApiKeyStore } from '../adapters/postgres/pg-key-store.ts';
import { ROUTE_ROLES, type Authenticator } from './auth/principal.ts';
import type { AppDeps } from './app.ts';
import type { ServerConfig } from './config.ts';
import { declaredRoles } from './machine-info.ts';

/** Options of {@link createApiDeps}. */
export interface ApiDepsOptions {
  readonly orm: MikroORM;
  readonly runtime: Runtime;
  readonly config: ServerConfig;
  /** True when running on the embedded local database (enables the development key by default). */
  readonly embedded: boolean;
  readonly log?: (line: string) => void;
  /** Other processes' announcements: a key revoked anywhere is forgotten by this process's key cache at once. */
  readonly wakeups?: Wakeups;
  /** How long a looked-up API key is trusted without a query (default 60 s). */
  readonly keyCacheTtlMs?: number;
}

/**
 * The API's side of the composition root: API keys in Postgres, JWTs when
 * configured, the development key on the embedded database, body limit.
 */
export async function createApiDeps(
  options: ApiDepsOptions,
): Promise<Pick<AppDeps, 'auth' | 'bodyLimitBytes'> & { devKey?: string; keys: CachedApiKeyStore; close(): void }> {
  const { config, runtime } = options;
  const log = options.log ?? ((line: string) => console.log(line));
  // Looked up once per TTL, not per request; revocations (announced by the store, in any process) evict at once.
  const keys = new CachedApiKeyStore(new PgApiKeyStore(options.orm), { ttlMs: options.keyCacheTtlMs });
  const unsubscribe = options.wakeups?.subscribe((w) => {
    if (w.kind === 'key_revoked') keys.invalidate(w.keyId);
    else if (w.kind === 'resync') keys.clear();
  });
  const publicKey =
    config.STATEKEEPER_JWT_PUBLIC_KEY ??
    (config.STATEKEEPER_JWT_PUBLIC_KEY_FILE ? await readFile(config.STATEKEEPER_JWT_PUBLIC_KEY_FILE, 'utf8') : undefined);
  let jwt: Authenticator | undefined;
  if (config.STATEKEEPER_JWT_SECRET || publicKey) {
    jwt = await createJwtAuthenticator({
      secret: config.STATEKEEPER_JWT_SECRET,
      publicKey,
      issuer: config.STATEKEEPER_JWT_ISSUER,
      audience: config.STATEKEEPER_JWT_AUDIENCE,
      tenantClaim: config.STATEKEEPER_JWT_TENANT_CLAIM,
      rolesClaim: config.STATEKEEPER_JWT_ROLES_CLAIM,
      maxTokenAgeSec: config.STATEKEEPER_JWT_MAX_AGE,
      clockToleranceSec: config.STATEKEEPER_JWT_CLOCK_TOLERANCE,
    });
    log(
      `statekeeper: accepting bearer JWTs (${[config.STATEKEEPER_JWT_SECRET && 'HS256', publicKey && 'RS256'].filter(Boolean).join(', ')})`,
    );
  }
  let devKey: string | undefined;
  if (config.STATEKEEPER_DEV_KEY === 'on' || (config.STATEKEEPER_DEV_KEY === 'auto' && options.embedded)) {
    devKey = await ensureDevKey(keys, {
      dataDir: config.dataDir,
      roles: [...ROUTE_ROLES, ...runtime.registry.list().flatMap((m) => declaredRoles(m.machine))],
    });
    log(`statekeeper: development API key (tenant "default", every role): ${devKey}`);
    log(`statekeeper:   try: curl -H "Authorization: Bearer ${devKey}" http://127.0.0.1:${config.PORT}/v1/machines`);
  }
  return {
    auth: combineAuthenticators(new ApiKeyAuthenticator(keys), jwt),
    bodyLimitBytes: config.STATEKEEPER_BODY_LIMIT,
    devKey,
    keys,
    close: () => unsubscribe?.(),
  };
}
