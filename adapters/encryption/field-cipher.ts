import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** A key-encryption key: an id stored with every value it protects, and 32 bytes of AES-256 key. */
export interface EncryptionKey {
  id: string;
  key: Buffer;
}

/** How a protected value is stored in JSON: one string under one marker key. */
export interface SealedValue {
  $sealed: string;
}

const VERSION = 'sk1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Parses `id:base64key[,id:base64key…]`: every key decrypts, the last one
 * encrypts new writes (rotate by appending a key, then re-encrypt).
 */
export function parseEncryptionKeys(text: string | undefined): EncryptionKey[] {
  if (!text?.trim()) return [];
  const keys = text.split(',').map((part) => {
    const [id, b64] = part.trim().split(':');
    const key = Buffer.from(b64 ?? '', 'base64');
    if (!id || !/^[A-Za-z0-9_.-]{1,64}$/.test(id) || key.length !== 32) {
      throw new Error(`encryption key "${id ?? ''}": expected <id>:<base64 of exactly 32 bytes> (AES-256)`);
    }
    return { id, key };
  });
  if (new Set(keys.map((k) => k.id)).size !== keys.length) throw new Error('encryption keys: every key id must be unique');
  return keys;
}

/**
 * AES-256-GCM envelope encryption of JSON values: each value gets a fresh
 * data key, which is itself encrypted ("wrapped") with the newest
 * key-encryption key; the stored string carries the key id, the wrapped data
 * key and the ciphertext.
 *
 * @remarks Format `sk1.<kid>.<wrapped key>.<iv>.<ciphertext+tag>` (base64url
 * parts). GCM authenticates both layers, and the key id is bound as
 * additional data, so a swapped or edited part fails to decrypt rather than
 * decrypting to something else. Keys live only in the process.
 *
 * @example
 * ```ts
 * const cipher = new FieldCipher(parseEncryptionKeys(process.env.STATEKEEPER_ENCRYPTION_KEYS));
 * const sealed = cipher.seal('s3cret'); // { $sealed: 'sk1.k2.…' }
 * cipher.open(sealed); // 's3cret'
 * ```
 */
export class FieldCipher {
  private readonly byId: Map<string, Buffer>;

  constructor(private readonly keys: readonly EncryptionKey[]) {
    if (keys.length === 0) throw new Error('FieldCipher needs at least one key');
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
  }

  /** Id of the key new values are sealed with. */
  get currentKeyId(): string {
    return this.keys.at(-1)!.id;
  }

  /** Encrypts a JSON value with a fresh data key wrapped by the newest key. */
  seal(value: unknown): SealedValue {
    const kek = this.keys.at(-1)!;
    const dek = randomBytes(32);
    const wrapped = encrypt(kek.key, dek, kek.id);
    const ct = encrypt(dek, Buffer.from(JSON.stringify(value), 'utf8'), kek.id);
    return { $sealed: [VERSION, kek.id, wrapped, ct].join('.') };
  }

  /** Decrypts a sealed value; throws when its key is unknown or it was altered. */
  open(sealed: SealedValue): unknown {
    const [version, kid, wrapped, ct, ...rest] = sealed.$sealed.split('.');
    if (version !== VERSION || !kid || !wrapped || !ct || rest.length > 0) throw new Error('not a sealed value of this version');
    const kek = this.byId.get(kid);
    if (!kek)
      throw new Error(
        `sealed with key "${kid}", which is not configured (keep retired keys in STATEKEEPER_ENCRYPTION_KEYS until re-encrypted)`,
      );
    const dek = decrypt(kek, wrapped, kid);
    return JSON.parse(decrypt(dek, ct, kid).toString('utf8'));
  }

  /** Key id a sealed value was written with. */
  static keyIdOf(sealed: SealedValue): string | undefined {
    return sealed.$sealed.split('.')[1];
  }
}

/** Whether a JSON value is a {@link SealedValue}. */
export function isSealed(value: unknown): value is SealedValue {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    typeof (value as SealedValue).$sealed === 'string' &&
    Object.keys(value).length === 1
  );
}

// iv ‖ ciphertext ‖ tag, base64url, with the key id as additional authenticated data.
function encrypt(key: Buffer, plain: Buffer, aad: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
}

function decrypt(key: Buffer, text: string, aad: string): Buffer {
  const raw = Buffer.from(text, 'base64url');
  if (raw.length < IV_BYTES + TAG_BYTES) throw new Error('sealed value too short');
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
  return Buffer.concat([decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)), decipher.final()]);
}
