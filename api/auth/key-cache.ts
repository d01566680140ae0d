import type { ApiKeyRecord, ApiKeyStore } from './api-keys.ts';

/** Options of {@link CachedApiKeyStore}. */
export interface KeyCacheOptions {
  /** How long a looked-up key is trusted without asking the store again (default 60 s): the bound on a lost revocation. */
  readonly ttlMs?: number;
  /** Keys kept at most (default 10,000); the least recently used go first. */
  readonly maxEntries?: number;
  /** Tells the other processes that a key changed (revoked or replaced), after the write. */
  readonly announce?: (keyId: string) => Promise<void>;
  readonly now?: () => number;
}

/**
 * API-key lookups cached per process, so an authenticated request costs no
 * query. Revoking or replacing a key forgets it here at once and announces
 * it to the other processes, which call {@link invalidate} (see api-deps.ts);
 * the TTL bounds how long a lost announcement can let a revoked key in.
 *
 * @remarks Only keys found are cached: an unknown id is asked each time, so a
 * flood of made-up keys cannot push the real ones out.
 */
export class CachedApiKeyStore implements ApiKeyStore {
  private readonly entries = new Map<string, { record: ApiKeyRecord; until: number }>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(
    private readonly inner: ApiKeyStore,
    private readonly o: KeyCacheOptions = {},
  ) {
    this.ttlMs = o.ttlMs ?? 60_000;
    this.maxEntries = o.maxEntries ?? 10_000;
    this.now = o.now ?? Date.now;
  }

  async get(id: string): Promise<ApiKeyRecord | undefined> {
    const hit = this.entries.get(id);
    if (hit && hit.until > this.now()) {
      // Re-inserted: Map order is the recency order for eviction.
      this.entries.delete(id);
      this.entries.set(id, hit);
      return hit.record;
    }
    this.entries.delete(id);
    const record = await this.inner.get(id);
    if (record) {
      this.entries.set(id, { record, until: this.now() + this.ttlMs });
      while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    }
    return record;
  }

  async revoke(id: string, at: Date): Promise<boolean> {
    const done = await this.inner.revoke(id, at);
    await this.changed(id);
    return done;
  }

  async put(record: ApiKeyRecord): Promise<void> {
    await this.inner.put(record);
    await this.changed(record.id);
  }

  insert(record: ApiKeyRecord): Promise<void> {
    return this.inner.insert(record);
  }

  list(tenant?: string): Promise<ApiKeyRecord[]> {
    return this.inner.list(tenant);
  }

  /** Forgets a key (another process revoked or replaced it). */
  invalidate(id: string): void {
    this.entries.delete(id);
  }

  /** Forgets every key (announcements may have been missed). */
  clear(): void {
    this.entries.clear();
  }

  /** Keys cached right now. */
  get size(): number {
    return this.entries.size;
  }

  private async changed(id: string): Promise<void> {
    this.entries.delete(id);
    await this.o.announce?.(id);
  }
}
