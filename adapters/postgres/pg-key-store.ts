import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { MikroORM } from '@mikro-orm/postgresql';
import { ApiKey } from './entities/index.ts';
import { ApiKeyNameTakenError, type ApiKeyRecord, type ApiKeyStore } from '../../api/auth/api-keys.ts';

/** API keys in the `sk_api_key` table; one forked EntityManager per call. */
export class PgApiKeyStore implements ApiKeyStore {
  constructor(private readonly orm: MikroORM) {}

  async insert(record: ApiKeyRecord): Promise<void> {
    const em = this.orm.em.fork();
    em.create(ApiKey, { ...record, roles: [...record.roles] });
    try {
      await em.flush();
    } catch (e) {
      if (e instanceof UniqueConstraintViolationException && /name/.test(e.message)) throw new ApiKeyNameTakenError(record.tenant, record.name);
      throw e;
    }
  }

  async put(record: ApiKeyRecord): Promise<void> {
    const em = this.orm.em.fork();
    await em.transactional(async (tx) => {
      // The name must be free for this id: revoke a live key of the same name held by another id.
      await tx.nativeUpdate(ApiKey, { tenant: record.tenant, name: record.name, revokedAt: null, id: { $ne: record.id } }, { revokedAt: new Date() });
      await tx.upsert(ApiKey, { ...record, roles: [...record.roles] });
    });
  }

  async get(id: string): Promise<ApiKeyRecord | undefined> {
    const row = await this.orm.em.fork().findOne(ApiKey, { id });
    return row ? toRecord(row) : undefined;
  }

  async list(tenant?: string): Promise<ApiKeyRecord[]> {
    const rows = await this.orm.em.fork().find(ApiKey, tenant === undefined ? {} : { tenant }, { orderBy: { tenant: 'asc', createdAt: 'asc', id: 'asc' } });
    return rows.map(toRecord);
  }

  async revoke(id: string, at: Date): Promise<boolean> {
    const n = await this.orm.em.fork().nativeUpdate(ApiKey, { id, revokedAt: null }, { revokedAt: at });
    return n > 0;
  }
}

function toRecord(row: { id: string; tenant: string; name: string; roles: string[]; secretHash: string; createdAt: Date; revokedAt?: Date | null }): ApiKeyRecord {
  return { id: row.id, tenant: row.tenant, name: row.name, roles: [...row.roles], secretHash: row.secretHash, createdAt: row.createdAt, revokedAt: row.revokedAt ?? null };
}
