import type pg from 'pg';
import type { StoreStats } from '../../runtime/ports.ts';

/** The stats as the scans before the counters computed them (rows in code-point order): the oracle. */
export async function recount(c: pg.Client, tenant: string): Promise<StoreStats> {
  // The queries of PgInstanceStore.stats before the counters, sorted in code-point order as the counters' answer is.
  const q = async (sql: string, order: string) => (await c.query(`select * from (${sql}) s order by ${order}`, [tenant])).rows;
  const instances = await q(
    `select machine_id, status, count(*)::int as n from sk_instance where tenant = $1 group by 1, 2`,
    'machine_id collate "C", status collate "C"',
  );
  const steps = await q(
    `select coalesce(e.target, e.name) as name, count(*)::int as total,
        count(*) filter (where e.status = 'failed')::int as failed, coalesce(sum(greatest(e.attempts - 1, 0)), 0)::int as retries
     from sk_effect e join sk_instance i on i.id = e.instance_id where i.tenant = $1 and e.kind = 'step' group by 1`,
    'name collate "C"',
  );
  const finished = await q(
    `select machine_id, case when jsonb_typeof(output->'outcome') = 'string' then output->>'outcome' end as outcome,
        count(*)::int as n, sum(extract(epoch from updated_at - created_at) * 1000)::float8 as sum_ms,
        max(extract(epoch from updated_at - created_at) * 1000)::float8 as max_ms
     from sk_instance where tenant = $1 and status <> 'active' group by 1, 2`,
    'machine_id collate "C", outcome collate "C"',
  );
  const durations = new Map<string, { finished: number; sumMs: number; maxMs: number }>();
  for (const r of finished) {
    const d = durations.get(r.machine_id) ?? { finished: 0, sumMs: 0, maxMs: Number.NEGATIVE_INFINITY };
    d.finished += r.n;
    d.sumMs += r.sum_ms;
    d.maxMs = Math.max(d.maxMs, r.max_ms);
    durations.set(r.machine_id, d);
  }
  return {
    instances: instances.map((r) => ({ machineId: r.machine_id, status: r.status, count: r.n })),
    steps: steps.map((r) => ({ name: r.name, total: r.total, failed: r.failed, retries: r.retries })),
    outcomes: finished.filter((r) => r.outcome !== null).map((r) => ({ machineId: r.machine_id, outcome: r.outcome, count: r.n })),
    durations: [...durations].map(([machineId, d]) => ({ machineId, finished: d.finished, meanMs: d.sumMs / d.finished, maxMs: d.maxMs })),
  };
}
