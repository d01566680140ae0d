import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { MikroORM } from '@mikro-orm/postgresql';
import { ApiKey } from './entities/index.ts';
import { ApiKeyNameTakenError, type ApiKeyRecord, type ApiKeyStore } from '../../api/auth/api-keys.ts';
import { WAKEUP_CHANNEL } from './pg-notifier.ts';

/**
 * Announces in the same transaction that keys changed, so that processes
 * caching them (api/auth/key-cache.ts) forget them now (see pg-notifier.ts).
 */
const ANNOUNCE_KEYS = `select pg_notify('${WAKEUP_CHANNEL}', json_build_object('o', '', 'k', k)::text)
  from jsonb_array_elements_text(?::jsonb) k`;

/** API keys in the `sk_api_key` table; one forked EntityManager per call. Revoking or replacing a key announces it. */
export class PgApiKeyStore implements ApiKeyStore {
  constructor(private readonly orm: MikroORM) {}

  async insert(record: ApiKeyRecord): Promise<void> {
    const em = this.orm.em.fork();
    em.create(ApiKey, { ...record, roles: [...record.roles] });
    try {
      await em.flush();
    } catch (e) {
      if (e instanceof UniqueConstraintViolationException && /name/.test(e.message))
        throw new ApiKeyNameTakenError(record.tenant, record.name);
      throw e;
    }
  }

  async put(record: ApiKeyRecord): Promise<void> {
    const em = this.orm.em.fork();
    await em.transactional(async (tx) => {
      // The name must be free for this id: revoke a live key of the same name held by another id.
      const replaced = (await tx.execute(
        `update sk_api_key set revoked_at = ? where tenant = ? and name = ? and revoked_at is null and id <> ? returning id`,
        [new Date(), record.tenant, record.name, record.id],
        'all',
      )) as { id: string }[];
      await tx.upsert(ApiKey, { ...record, roles: [...record.roles] });
      await tx.execute(ANNOUNCE_KEYS, [JSON.stringify([record.id, ...replaced.map((r) => r.id)])], 'all');
    });
  }

  async get(id: string): Promise<ApiKeyRecord | undefined> {
    const row = await this.orm.em.fork().findOne(ApiKey, { id });
    return row ? toRecord(row) : undefined;
  }

  async list(tenant?: string): Promise<ApiKeyRecord[]> {
    const rows = await this.orm.em
      .fork()
      .find(ApiKey, tenant === undefined ? {} : { tenant }, { orderBy: { tenant: 'asc', createdAt: 'asc', id: 'asc' } });
    return rows.map(toRecord);
  }

  async revoke(id: string, at: Date): Promise<boolean> {
    const rows = (await this.orm.em
      .fork()
      .getConnection()
      .execute(
        `with r as (update sk_api_key set revoked_at = ? where id = ? and revoked_at is null returning id)
        select pg_notify('${WAKEUP_CHANNEL}', json_build_object('o', '', 'k', r.id)::text) from r`,
        [at, id],
        'all',
      )) as unknown[];
    return rows.length > 0;
  }
}

function toRecord(row: {
  id: string;
  tenant: string;
  name: string;
  roles: string[];
  secretHash: string;
  createdAt: Date;
  revokedAt?: Date | null;
}): ApiKeyRecord {
  return {
    id: row.id,
    tenant: row.tenant,
    name: row.name,
    roles: [...row.roles],
    secretHash: row.secretHash,
    createdAt: row.createdAt,
    revokedAt: row.revokedAt ?? null,
  };
}
