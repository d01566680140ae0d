import { describe, expect, it } from 'vitest';
import { FieldCipher, parseEncryptionKeys } from './field-cipher.ts';
import { SecretFields } from './secret-fields.ts';

const keys = parseEncryptionKeys(`a:${Buffer.alloc(32, 7).toString('base64')},b:${Buffer.alloc(32, 9).toString('base64')}`);

describe('FieldCipher', () => {
  it('round-trips JSON values under the newest key, with a fresh ciphertext each time', () => {
    const cipher = new FieldCipher(keys);
    const sealed = cipher.seal({ pw: 'hunter22', n: 1 });
    expect(sealed.$sealed.startsWith('sk1.b.')).toBe(true);
    expect(sealed.$sealed).not.toContain('hunter22');
    expect(cipher.open(sealed)).toEqual({ pw: 'hunter22', n: 1 });
    expect(cipher.seal('x').$sealed).not.toBe(cipher.seal('x').$sealed);
  });

  it('refuses an altered ciphertext, a swapped key id and an unknown key', () => {
    const cipher = new FieldCipher(keys);
    const [v, kid, wrapped, ct] = cipher.seal('secret').$sealed.split('.') as [string, string, string, string];
    const flipped = `${ct.slice(0, -2)}${ct.at(-2) === 'A' ? 'B' : 'A'}${ct.at(-1)}`;
    expect(() => cipher.open({ $sealed: [v, kid, wrapped, flipped].join('.') })).toThrow();
    expect(() => cipher.open({ $sealed: [v, 'a', wrapped, ct].join('.') })).toThrow();
    expect(() => new FieldCipher(keys.slice(0, 1)).open({ $sealed: [v, kid, wrapped, ct].join('.') })).toThrow(/not configured/);
  });

  it('rejects malformed key configuration', () => {
    expect(() => parseEncryptionKeys('k:short')).toThrow(/32 bytes/);
    expect(() => parseEncryptionKeys(`k:${Buffer.alloc(32).toString('base64')},k:${Buffer.alloc(32).toString('base64')}`)).toThrow(
      /unique/,
    );
    expect(parseEncryptionKeys(undefined)).toEqual([]);
  });
});

describe('SecretFields', () => {
  it('seals the values of marked keys wherever they appear, and opens them again', () => {
    const fields = new SecretFields(new FieldCipher(keys));
    // Secrets with characters outside base64url, so no ciphertext can contain them by chance.
    const value = { input: { radius: { password: 'pw#1' } }, steps: [{ password: 'pw#2', user: 'ada' }] };
    const sealed = fields.seal(value, { keys: new Set(['password']) });
    expect(JSON.stringify(sealed)).not.toMatch(/pw#1|pw#2/);
    expect(JSON.stringify(sealed)).toContain('"user":"ada"');
    expect(fields.open(sealed)).toEqual(value);
    expect(fields.seal(value, undefined)).toBe(value);
  });
});
