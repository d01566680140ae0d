import { defineEntity, p } from '@mikro-orm/core';

/** An event emitted by a machine (`emit(...)`), committed with the transition that emitted it. */
export const OutboxMessage = defineEntity({
  name: 'OutboxMessage',
  tableName: 'sk_outbox',
  properties: {
    id: p.bigint().primary().autoincrement(),
    instanceId: p.string(),
    seq: p.integer(),
    type: p.string(),
    payload: p.json<unknown>(),
    createdAt: p.datetime(),
    publishedAt: p.datetime().nullable(),
  },
});
