import { FieldCipher, isSealed } from './field-cipher.ts';

/**
 * What a machine marks secret, from its root `meta.secrets`: the names of
 * keys whose values are encrypted wherever they appear (input, context,
 * event payloads, step inputs and results), or `'all'` to encrypt whole
 * contexts, payloads, step inputs and results.
 *
 * @example
 * ```ts
 * createMachine({ id: 'subscriber-provisioning', meta: { secrets: ['password'] }, … })
 * ```
 */
export type SecretPolicy = { keys: ReadonlySet<string> } | 'all';

/** Reads a machine's {@link SecretPolicy}; `undefined` when it marks nothing secret. */
export function secretPolicyOf(machine: { root: { meta?: unknown } }): SecretPolicy | undefined {
  const secrets = (machine.root.meta as { secrets?: unknown } | undefined)?.secrets;
  if (secrets === 'all') return 'all';
  if (Array.isArray(secrets) && secrets.length > 0 && secrets.every((k) => typeof k === 'string')) return { keys: new Set(secrets) };
  return undefined;
}

/**
 * Seals the secret parts of JSON values and opens every sealed part again.
 * @remarks Values are walked, not changed in place. Only machines with a
 * policy pay for the walk on writes; reads walk everything that may hold a
 * sealed value (cheap next to the JSON parse that produced it).
 */
export class SecretFields {
  constructor(readonly cipher: FieldCipher) {}

  /** The value with secret keys' values (or, for `'all'`, the whole value) sealed. */
  seal(value: unknown, policy: SecretPolicy | undefined): unknown {
    if (!policy || value === null || value === undefined) return value;
    if (policy === 'all') return isSealed(value) ? value : this.cipher.seal(value);
    return this.sealKeys(value, policy.keys);
  }

  /** A persisted XState snapshot with its context (and output) sealed per policy; status and state value stay readable. */
  sealSnapshot(snapshot: unknown, policy: SecretPolicy | undefined): unknown {
    if (!policy || !snapshot || typeof snapshot !== 'object') return snapshot;
    const s = snapshot as Record<string, unknown>;
    return { ...s, context: this.seal(s.context, policy), ...('output' in s && { output: this.seal(s.output, policy) }) };
  }

  /** The value with every sealed part decrypted. */
  open(value: unknown): unknown {
    if (value === null || typeof value !== 'object') return value;
    if (isSealed(value)) return this.cipher.open(value);
    if (Array.isArray(value)) return value.map((v) => this.open(v));
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = this.open(v);
    return out;
  }

  /** The value with every part sealed under an older key sealed again under the newest; `undefined` when nothing changed. */
  reseal(value: unknown): unknown {
    let changed = false;
    const walk = (v: unknown): unknown => {
      if (v === null || typeof v !== 'object') return v;
      if (isSealed(v)) {
        if (FieldCipher.keyIdOf(v) === this.cipher.currentKeyId) return v;
        changed = true;
        return this.cipher.seal(this.cipher.open(v));
      }
      if (Array.isArray(v)) return v.map(walk);
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    };
    const out = walk(value);
    return changed ? out : undefined;
  }

  private sealKeys(value: unknown, keys: ReadonlySet<string>): unknown {
    if (value === null || typeof value !== 'object' || isSealed(value)) return value;
    if (Array.isArray(value)) return value.map((v) => this.sealKeys(v, keys));
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = keys.has(k) && v !== null && v !== undefined && !isSealed(v) ? this.cipher.seal(v) : this.sealKeys(v, keys);
    }
    return out;
  }
}
