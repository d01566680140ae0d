import { defineEntity, p } from '@mikro-orm/core';

/** One applied event: the instance's history and audit trail. */
export const WorkflowEvent = defineEntity({
  name: 'WorkflowEvent',
  tableName: 'sk_event',
  properties: {
    instanceId: p.string().primary(),
    seq: p.integer().primary(),
    type: p.string(),
    payload: p.json<unknown>().nullable(),
    /** api, timer, step, child, operator, start, system */
    source: p.string(),
    actor: p.string().nullable(),
    stateValue: p.json<unknown>(),
    handled: p.boolean(),
    idempotencyKey: p.string().nullable(),
    createdAt: p.datetime(),
  },
  uniques: [{ properties: ['instanceId', 'idempotencyKey'] }],
});
