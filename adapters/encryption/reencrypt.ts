import type { MikroORM } from '@mikro-orm/postgresql';
import type { SecretFields } from './secret-fields.ts';

/** The mutable columns that may hold sealed values, by table and key column. */
const COLUMNS = [
  { table: 'sk_instance', key: 'id', columns: ['snapshot', 'output'] },
  { table: 'sk_effect', key: 'id', columns: ['input', 'event', 'result'] },
  { table: 'sk_outbox', key: 'id', columns: ['payload'] },
] as const;

/**
 * Seals again, under the newest key, every value sealed under an older one in
 * instances, effects and outbox; returns how many rows changed.
 *
 * @remarks History rows (`sk_event`) are append-only and hash-chained: they
 * keep the key they were written with, so a retired key stays configured as
 * long as history sealed with it is kept. Safe to run while the server runs
 * (each row is rewritten only if it still holds what was read).
 */
export async function reencrypt(orm: MikroORM, fields: SecretFields, batch = 200): Promise<number> {
  const conn = orm.em.getConnection();
  let changed = 0;
  for (const { table, key, columns } of COLUMNS) {
    let after = '';
    for (;;) {
      const rows = (await conn.execute(
        `select ${key}::text as k, ${columns.map((c) => `${c}::text as ${c}`).join(', ')} from ${table}
         where ${key}::text > ? and (${columns.map((c) => `strpos(${c}::text, '"$sealed"') > 0`).join(' or ')})
         order by ${key}::text limit ?`,
        [after, batch],
        'all',
      )) as Record<string, string | null>[];
      for (const row of rows) {
        const updates = columns.flatMap((c) => {
          const resealed = row[c] === null ? undefined : fields.reseal(JSON.parse(row[c]!));
          return resealed === undefined ? [] : [{ c, old: row[c]!, value: JSON.stringify(resealed) }];
        });
        if (updates.length === 0) continue;
        const res = (await conn.execute(
          `update ${table} set ${updates.map((u) => `${u.c} = ?::jsonb`).join(', ')}
           where ${key}::text = ? and ${updates.map((u) => `${u.c} = ?::jsonb`).join(' and ')}`,
          [...updates.map((u) => u.value), row.k, ...updates.map((u) => u.old)],
          'run',
        )) as { affectedRows?: number };
        changed += res.affectedRows ?? 0;
      }
      if (rows.length < batch) break;
      after = String(rows.at(-1)!.k);
    }
  }
  return changed;
}
