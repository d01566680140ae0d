import { defineEntity, p } from '@mikro-orm/core';

/**
 * One workflow instance: the persisted XState snapshot and what the API filters on.
 *
 * @remarks `version` is the optimistic lock and equals the sequence number of
 * the last history row, so history is gapless by construction.
 */
export const WorkflowInstance = defineEntity({
  name: 'WorkflowInstance',
  tableName: 'sk_instance',
  properties: {
    id: p.string().primary(),
    tenant: p.string(),
    machineId: p.string(),
    machineVersion: p.string(),
    status: p.string(),
    stateValue: p.json<unknown>(),
    tags: p.json<string[]>(),
    snapshot: p.json<unknown>(),
    version: p.integer().version(),
    parentId: p.string().nullable(),
    parentRef: p.string().nullable(),
    idempotencyKey: p.string().nullable(),
    inputHash: p.string().nullable(),
    output: p.json<unknown>().nullable(),
    error: p.json<unknown>().nullable(),
    traceContext: p.json<Record<string, string>>().nullable(),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
  },
  uniques: [{ properties: ['tenant', 'idempotencyKey'] }],
  indexes: [
    { properties: ['tenant', 'machineId', 'status', 'createdAt'] },
    { properties: ['tenant', 'updatedAt'] },
    { properties: ['parentId'] },
  ],
});
