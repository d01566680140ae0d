import type pg from 'pg';
import type { LabStore, LedgerRow, RecordWrite, StoredRecord } from './lab-store.ts';
import { inTransaction } from './pg-pool.ts';
import { ensureLabSchema, LAB_SCHEMA } from './pg-schema.ts';

/**
 * A {@link LabStore} on Postgres: `lab.records` and `lab.idempotency`.
 * @remarks Each commit is one transaction of at most three set-based
 * statements, whatever the number of rows. A result is wrapped as
 * `{ "value": … }` so that `undefined` (a call that answers nothing) survives.
 */
export class PgLabStore implements LabStore {
  private ready: Promise<void> | undefined;

  constructor(
    private readonly pool: pg.Pool,
    private readonly onClose: () => Promise<void> = async () => {},
  ) {}

  async load(): Promise<{ records: StoredRecord[]; ledger: LedgerRow[] }> {
    await this.schema();
    const [records, ledger] = await Promise.all([
      this.pool.query<{ tbl: string; id: string; data: unknown }>(`SELECT tbl, id, data FROM ${LAB_SCHEMA}.records ORDER BY seq`),
      this.pool.query<{ scope: string; key: string; result: { value?: unknown } }>(
        `SELECT scope, key, result FROM ${LAB_SCHEMA}.idempotency`,
      ),
    ]);
    return {
      records: records.rows.map((r) => ({ table: r.tbl, id: r.id, data: r.data })),
      ledger: ledger.rows.map((r) => ({ scope: r.scope, key: r.key, result: r.result.value })),
    };
  }

  async commit(writes: readonly RecordWrite[], ledger: LedgerRow | undefined): Promise<void> {
    if (writes.length === 0 && !ledger) return;
    await this.schema();
    const upserts = writes.filter((w) => w.data !== null);
    const deletes = writes.filter((w) => w.data === null);
    await inTransaction(this.pool, async (db) => {
      if (deletes.length > 0) {
        await db.query(
          `DELETE FROM ${LAB_SCHEMA}.records r USING unnest($1::text[], $2::text[]) AS d(tbl, id)
          WHERE r.tbl = d.tbl AND r.id = d.id`,
          [deletes.map((w) => w.table), deletes.map((w) => w.id)],
        );
      }
      if (upserts.length > 0) {
        await db.query(
          `INSERT INTO ${LAB_SCHEMA}.records (tbl, id, data)
          SELECT * FROM unnest($1::text[], $2::text[], $3::json[])
          ON CONFLICT (tbl, id) DO UPDATE SET data = excluded.data`,
          [upserts.map((w) => w.table), upserts.map((w) => w.id), upserts.map((w) => JSON.stringify(w.data))],
        );
      }
      if (ledger) {
        await db.query(
          `INSERT INTO ${LAB_SCHEMA}.idempotency (scope, key, result) VALUES ($1, $2, $3)
          ON CONFLICT (scope, key) DO NOTHING`,
          [ledger.scope, ledger.key, JSON.stringify({ value: ledger.result })],
        );
      }
    });
  }

  async reset(): Promise<void> {
    await this.schema();
    await this.pool.query(`TRUNCATE ${LAB_SCHEMA}.records, ${LAB_SCHEMA}.idempotency RESTART IDENTITY`);
  }

  close(): Promise<void> {
    return this.onClose();
  }

  private schema(): Promise<void> {
    this.ready ??= ensureLabSchema(this.pool).catch((error: unknown) => {
      this.ready = undefined;
      throw error;
    });
    return this.ready;
  }
}
