import { decodeProtectedHeader, importSPKI, jwtVerify, type CryptoKey, type JWTPayload } from 'jose';
import { effectiveRoles, parseRoles, TENANT_RE, type Authenticator, type Principal } from './principal.ts';

/** Options of {@link createJwtAuthenticator}: at least one of `secret` and `publicKey`. */
export interface JwtOptions {
  /** Shared secret for HS256 tokens (at least 32 characters). */
  readonly secret?: string;
  /** PEM public key (SPKI, `-----BEGIN PUBLIC KEY-----`) for RS256 tokens. */
  readonly publicKey?: string;
  /** When set, the `iss` claim must equal it. */
  readonly issuer?: string;
  /** When set, the `aud` claim must contain it. */
  readonly audience?: string;
  /** Claim holding the tenant (default `tenant`). */
  readonly tenantClaim?: string;
  /** Claim holding the roles: an array or a space/comma separated string (default `roles`). */
  readonly rolesClaim?: string;
  /** Allowed clock skew in seconds (default 30). */
  readonly clockToleranceSec?: number;
  /**
   * Longest accepted token lifetime in seconds (default 3600): `iat` is
   * required, a token older than this is refused even before its `exp`, and
   * so is one issued in the future or whose `exp` lies further ahead.
   */
  readonly maxTokenAgeSec?: number;
}

/**
 * Verifies bearer JWTs (HS256 with a shared secret, RS256 with a public key)
 * and maps them to a principal: `sub` → subject `user:<sub>`, the tenant and
 * roles claims. Tokens must carry `sub`, `iat` and `exp`, within the
 * maximum lifetime.
 *
 * @example
 * ```ts
 * const jwt = await createJwtAuthenticator({ secret: process.env.STATEKEEPER_JWT_SECRET });
 * ```
 */
export async function createJwtAuthenticator(options: JwtOptions): Promise<Authenticator> {
  if (!options.secret && !options.publicKey) throw new Error('JWT authentication needs a secret (HS256) or a public key (RS256).');
  if (options.secret !== undefined && options.secret.length < 32) throw new Error('The JWT secret must be at least 32 characters long.');
  const keys: Partial<Record<'HS256' | 'RS256', Uint8Array | CryptoKey>> = {};
  if (options.secret) keys.HS256 = new TextEncoder().encode(options.secret);
  if (options.publicKey) keys.RS256 = await importSPKI(options.publicKey, 'RS256');
  const tenantClaim = options.tenantClaim ?? 'tenant';
  const rolesClaim = options.rolesClaim ?? 'roles';
  const clockTolerance = options.clockToleranceSec ?? 30;
  const maxTokenAge = options.maxTokenAgeSec ?? 3600;
  if (!(maxTokenAge > 0) || !(clockTolerance >= 0)) {
    throw new Error('JWT maxTokenAgeSec must be positive and clockToleranceSec not negative.');
  }

  return {
    async authenticate(token: string): Promise<Principal | undefined> {
      let alg: string | undefined;
      try {
        alg = decodeProtectedHeader(token).alg;
      } catch {
        return undefined;
      }
      // The algorithm picks the key, and only configured algorithms are accepted ("none" and alg confusion are refused).
      const key = alg === 'HS256' || alg === 'RS256' ? keys[alg] : undefined;
      if (!key) return undefined;
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, key, {
          algorithms: [alg!],
          issuer: options.issuer,
          audience: options.audience,
          requiredClaims: ['sub', 'exp', 'iat'],
          clockTolerance,
          maxTokenAge,
        }));
      } catch {
        return undefined;
      }
      // A token that claims a longer life than allowed is refused, not only cut short.
      if ((payload.exp ?? 0) - (payload.iat ?? 0) > maxTokenAge + clockTolerance) return undefined;
      const tenant = payload[tenantClaim];
      if (typeof tenant !== 'string' || !TENANT_RE.test(tenant) || !payload.sub) return undefined;
      const raw = payload[rolesClaim];
      // A roles claim of the wrong shape is a bad token, not a token without roles.
      if (raw !== undefined && typeof raw !== 'string' && !(Array.isArray(raw) && raw.every((r) => typeof r === 'string')))
        return undefined;
      let roles: string[];
      try {
        roles = raw === undefined ? [] : parseRoles(raw as string | string[]);
      } catch {
        return undefined;
      }
      return { subject: `user:${payload.sub}`, tenant, roles: effectiveRoles(roles), via: 'jwt' };
    },
  };
}

/** Tries each authenticator in turn: API keys and JWTs can be accepted side by side. */
export function combineAuthenticators(...list: (Authenticator | undefined)[]): Authenticator {
  const active = list.filter((a): a is Authenticator => !!a);
  return {
    async authenticate(token) {
      for (const a of active) {
        const p = await a.authenticate(token);
        if (p) return p;
      }
      return undefined;
    },
  };
}
