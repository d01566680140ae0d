import { defineEntity, p } from '@mikro-orm/core';

/**
 * An API key of the HTTP API. Only the SHA-256 of the key is stored; the key
 * itself is shown once, when it is created.
 *
 * @remarks A name is unique per tenant among keys that are not revoked
 * (partial unique index in the migration); revoked rows stay for the audit trail.
 */
export const ApiKey = defineEntity({
  name: 'ApiKey',
  tableName: 'sk_api_key',
  properties: {
    /** Public id, the `<id>` in `sk_<id>_<secret>`. */
    id: p.text().primary(),
    tenant: p.text(),
    name: p.text(),
    roles: p.json<string[]>(),
    /** Hex SHA-256 of the whole key string. */
    secretHash: p.text(),
    createdAt: p.datetime(),
    revokedAt: p.datetime().nullable(),
  },
  indexes: [
    { properties: ['tenant'] },
    // Declared as the migration wrote it, so the schema check finds no difference.
    {
      name: 'sk_api_key_tenant_name_live_unique',
      expression: 'create unique index "sk_api_key_tenant_name_live_unique" on "sk_api_key" ("tenant", "name") where "revoked_at" is null',
    },
  ],
});
