/**
 * Sizes and vacuum counters of the tables the hot path writes, for the `--stuck` and `--churn` bench modes:
 * table (heap + TOAST) and index sizes, live and dead row versions and the (auto)vacuum counts from
 * `pg_stat_user_tables`. The counters are the statistics system's and lag by up to a second or so.
 */
import type pg from 'pg';

export interface TableStat {
  table: string;
  /** pg_total_relation_size: heap, TOAST and indexes, bytes. */
  total: number;
  /** Indexes only, bytes. */
  indexes: number;
  live: number;
  dead: number;
  vacuums: number;
  autovacuums: number;
}

/** The tables the three-step workflow and retention write (with the stats counters' triggers), and the rest of the hot path. */
export const HOT_TABLES = [
  'sk_instance',
  'sk_effect',
  'sk_event',
  'sk_stats_delta',
  'sk_stats_counter',
  'sk_history_checkpoint',
  'sk_outbox',
  'sk_delivery',
  'sk_task',
  'sk_correlation',
];

export async function tableStats(db: pg.Client | pg.Pool, tables: readonly string[] = HOT_TABLES): Promise<TableStat[]> {
  const { rows } = await db.query(
    `select relname as table, pg_total_relation_size(relid)::bigint as total, pg_indexes_size(relid)::bigint as indexes,
       n_live_tup as live, n_dead_tup as dead, vacuum_count as vacuums, autovacuum_count as autovacuums
     from pg_stat_user_tables where relname = any ($1::text[]) order by array_position($1::text[], relname::text)`,
    [tables],
  );
  return rows.map((r) => ({
    table: r.table,
    total: Number(r.total),
    indexes: Number(r.indexes),
    live: Number(r.live),
    dead: Number(r.dead),
    vacuums: Number(r.vacuums),
    autovacuums: Number(r.autovacuums),
  }));
}

export const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/** One line per table: total (of which indexes), live and dead row versions, autovacuum count. */
export function statLines(stats: readonly TableStat[], indent = '  '): string[] {
  const w = Math.max(...stats.map((s) => s.table.length));
  return stats.map(
    (s) =>
      `${indent}${s.table.padEnd(w)}  ${mb(s.total).padStart(9)} (indexes ${mb(s.indexes).padStart(9)})  ` +
      `live ${String(s.live).padStart(8)}  dead ${String(s.dead).padStart(8)}  autovacuums ${s.autovacuums}`,
  );
}

/** The oldest xmin any session holds, and its age in transactions (null: none holds one). */
export async function xminHorizon(db: pg.Client | pg.Pool): Promise<{ pid: number; age: number; state: string } | null> {
  const { rows } = await db.query(
    `select pid, age(backend_xmin)::int as age, state from pg_stat_activity
     where backend_xmin is not null and pid <> pg_backend_pid() order by age(backend_xmin) desc limit 1`,
  );
  return rows[0] ? { pid: rows[0].pid, age: rows[0].age, state: rows[0].state } : null;
}
