import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { apiKeyId, buildApiKey, type ApiKeyStore } from './api-keys.ts';

/** Id of the development key: `sk_dev_<secret>`. */
export const DEV_KEY_ID = 'dev';
/** Name of the development key (history actor `apikey:development`). */
export const DEV_KEY_NAME = 'development';

/**
 * Makes sure the development key exists: created once (random), kept in
 * `<dataDir>/dev-api-key` (mode 600) so every start prints the same key, and
 * written to the key store each start (tenant `default`, the given roles).
 *
 * @remarks Only for the embedded local database: a key in a file is fine on a
 * developer's machine and wrong anywhere else.
 */
export async function ensureDevKey(store: ApiKeyStore, options: { dataDir: string; roles: readonly string[] }): Promise<string> {
  const file = path.join(options.dataDir, 'dev-api-key');
  let key = (await readFile(file, 'utf8').catch(() => '')).trim();
  if (apiKeyId(key) !== DEV_KEY_ID) {
    key = `sk_${DEV_KEY_ID}_${randomBytes(32).toString('base64url')}`;
    await mkdir(options.dataDir, { recursive: true });
    await writeFile(file, `${key}\n`, { mode: 0o600 });
  }
  const { record } = buildApiKey({ tenant: 'default', name: DEV_KEY_NAME, roles: options.roles, id: DEV_KEY_ID, key });
  const existing = await store.get(DEV_KEY_ID);
  await store.put({ ...record, createdAt: existing?.createdAt ?? record.createdAt });
  return key;
}
