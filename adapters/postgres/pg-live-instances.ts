import type { MikroORM } from '@mikro-orm/postgresql';
import type { InstanceRecord } from '../../runtime/ports.ts';
import { toInstance } from './rows.ts';

/**
 * The active instances of a machine (every tenant, every version), in pages by id: a check of stored
 * snapshots against a new definition reads them all without holding them all in memory.
 * @remarks Served by a scan of `sk_instance` filtered on machine and status; run off-peak on large tables.
 */
export async function* liveInstances(orm: MikroORM, machineId: string, pageSize = 500): AsyncGenerator<InstanceRecord> {
  const conn = orm.em.getConnection();
  for (let after = ''; ; ) {
    const rows = (await conn.execute(
      `select * from sk_instance where machine_id = ? and status = 'active' and id > ? order by id limit ?`,
      [machineId, after, pageSize],
      'all',
    )) as Record<string, unknown>[];
    for (const r of rows) yield toInstance(r);
    if (rows.length < pageSize) return;
    after = String(rows.at(-1)!.id);
  }
}
