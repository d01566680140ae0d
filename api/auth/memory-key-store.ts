import { ApiKeyNameTakenError, type ApiKeyRecord, type ApiKeyStore } from './api-keys.ts';

/** API keys in memory, for simulations and in-process API tests. */
export class MemoryApiKeyStore implements ApiKeyStore {
  private readonly keys = new Map<string, ApiKeyRecord>();

  async insert(record: ApiKeyRecord): Promise<void> {
    if (this.keys.has(record.id)) throw new Error(`API key id "${record.id}" exists`);
    if ([...this.keys.values()].some((k) => k.tenant === record.tenant && k.name === record.name && !k.revokedAt))
      throw new ApiKeyNameTakenError(record.tenant, record.name);
    this.keys.set(record.id, structuredClone(record));
  }

  async put(record: ApiKeyRecord): Promise<void> {
    this.keys.set(record.id, structuredClone(record));
  }

  async get(id: string): Promise<ApiKeyRecord | undefined> {
    const k = this.keys.get(id);
    return k && structuredClone(k);
  }

  async list(tenant?: string): Promise<ApiKeyRecord[]> {
    return [...this.keys.values()].filter((k) => tenant === undefined || k.tenant === tenant).map((k) => structuredClone(k));
  }

  async revoke(id: string, at: Date): Promise<boolean> {
    const k = this.keys.get(id);
    if (!k || k.revokedAt) return false;
    k.revokedAt = at;
    return true;
  }
}
