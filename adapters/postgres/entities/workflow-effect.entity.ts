import { defineEntity, p } from '@mikro-orm/core';

/**
 * A durable effect derived from a transition's actions: a step invocation,
 * a child instance, a timer or an event sent to another instance.
 *
 * @remarks The id is the effect's idempotency key
 * (`instanceId:childId:generation` for steps), so a re-run after a crash
 * reuses it. Open effects are `pending`; `due_at` orders timers and retries.
 */
export const WorkflowEffect = defineEntity({
  name: 'WorkflowEffect',
  tableName: 'sk_effect',
  properties: {
    id: p.string().primary(),
    /** Insertion order, for listing an instance's effects as they happened. */
    seq: p.bigint().autoincrement(),
    instanceId: p.string(),
    /** step | child | timer | send */
    kind: p.string(),
    /** invoke id (step, child), send id (timer), event type (send) */
    name: p.string(),
    /** step: actor src; child: machine ref; send: target instance id */
    target: p.string().nullable(),
    /** pending | done | failed | cancelled */
    status: p.string(),
    input: p.json<unknown>().nullable(),
    event: p.json<unknown>().nullable(),
    attempts: p.integer(),
    dueAt: p.datetime().nullable(),
    leaseOwner: p.string().nullable(),
    leaseUntil: p.datetime().nullable(),
    result: p.json<unknown>().nullable(),
    error: p.json<unknown>().nullable(),
    lastError: p.json<unknown>().nullable(),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
    closedAt: p.datetime().nullable(),
  },
  indexes: [{ properties: ['instanceId', 'seq'] }],
});
