import { WAKEUP_CHANNEL } from './pg-notifier.ts';

/**
 * Whether a live subscription `s` takes an outbox row of `tenant` and `type`: its tenant (or none, an
 * in-process handler of every tenant), and one of its patterns (`event-filter.ts`: `*`, the exact type, or a
 * prefix ending in `.*`). Evaluated by the commit statement: deliveries exist exactly when their row does.
 */
const SUBSCRIPTION_MATCHES = (tenant: string, type: string) => `s.deleted_at is null and (s.tenant is null or s.tenant = ${tenant})
      and exists (select 1 from jsonb_array_elements_text(s.event_types) p(t)
        where p.t = '*' or p.t = ${type} or (right(p.t, 2) = '.*' and starts_with(${type}, left(p.t, -1))))`;

/**
 * The CTEs writing a batch's outbox rows (`ob`), one pending delivery per row and matching subscription (`dl`),
 * and the NOTIFY telling the other processes' dispatchers to claim them at once (`dl_note`).
 * `source` is a FROM clause whose rows `x` have the instance's id, version, tenant, the commit time `at`, its
 * `outbox` array and the request index `i`; `owners` is the CTE holding each instance's `id` and `tenant`.
 * A row no live subscription matches is published as it is written: it has nothing to wait for.
 */
export const outboxCtes = (source: string, owners: string) => `ob as (
  insert into sk_outbox (instance_id, seq, type, payload, created_at, published_at)
  select x.id, x.version, o.type, o.payload, x.at,
    case when exists (select 1 from sk_subscription s where ${SUBSCRIPTION_MATCHES('x.tenant', 'o.type')}) then null else x.at end
  from ${source} cross join lateral rows from (jsonb_to_recordset(coalesce(x.outbox, '[]'::jsonb))
    as (type text, payload jsonb)) with ordinality as o(type, payload, n)
  order by x.i, o.n
  returning id, instance_id, type, created_at
), dl as (
  insert into sk_delivery (id, outbox_id, subscription_id, instance_id, tenant, event_type, status, attempts, next_attempt_at,
      created_at, updated_at)
  select ob.id || '-' || s.id, ob.id, s.id, ob.instance_id, w.tenant, ob.type, 'pending', 0, ob.created_at, ob.created_at, ob.created_at
  from ob join ${owners} w on w.id = ob.instance_id join sk_subscription s on ${SUBSCRIPTION_MATCHES('w.tenant', 'ob.type')}
  returning 1
), dl_note as (
  select pg_notify('${WAKEUP_CHANNEL}', json_build_object('o', $2::text, 'd', 1)::text) from (select 1 from dl limit 1) x
)`;
