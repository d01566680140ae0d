import type { MikroORM } from '@mikro-orm/postgresql';

/** Rows of {@link pgGauges}' instance count. */
export interface InstanceCount {
  machineId: string;
  status: string;
  count: number;
}

/**
 * Reads for the gauges `GET /metrics` serves, across tenants: instances by
 * machine and status, and open effects leased to a live owner.
 *
 * @remarks Run at scrape time (every 15–60 s), not per event: one grouped
 * count over `sk_instance` (the `(tenant, machine_id, status, …)` index can
 * serve it) and one count over the open effects, which the partial
 * `status = 'pending'` index keeps small however long history grows.
 */
export function pgGauges(orm: MikroORM) {
  const rows = async (sql: string) => (await orm.em.getConnection().execute(sql, [], 'all')) as Record<string, unknown>[];
  return {
    async instanceCounts(): Promise<InstanceCount[]> {
      const r = await rows(`select machine_id, status, count(*)::int as n from sk_instance group by 1, 2`);
      return r.map((x) => ({ machineId: String(x.machine_id), status: String(x.status), count: Number(x.n) }));
    },
    async openLeases(): Promise<number> {
      const [r] = await rows(
        `select count(*)::int as n from sk_effect where status = 'pending' and lease_owner is not null and lease_until > now()`,
      );
      return Number(r?.n ?? 0);
    },
  };
}
