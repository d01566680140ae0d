/** One record as stored: the table it belongs to (e.g. `billing.invoice`), its id, its JSON. */
export interface StoredRecord {
  table: string;
  id: string;
  data: unknown;
}

/** A record a call wrote; `data: null` deletes it. */
export interface RecordWrite {
  table: string;
  id: string;
  data: unknown;
}

/** The result of a mutating call, kept under its idempotency key (`scope` is `system.operation`). */
export interface LedgerRow {
  scope: string;
  key: string;
  result: unknown;
}

/**
 * Where a {@link LabState} keeps the lab's records and idempotency ledger.
 * @remarks `commit` is atomic: the writes and the ledger row land together or not at all.
 */
export interface LabStore {
  /** Every record (in the order they were first written) and every ledger row. */
  load(): Promise<{ records: StoredRecord[]; ledger: LedgerRow[] }>;
  commit(writes: readonly RecordWrite[], ledger: LedgerRow | undefined): Promise<void>;
  /** Deletes every record and ledger row. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

/** A store that keeps nothing: the lab lives in memory only (unit tests). */
export class MemoryLabStore implements LabStore {
  async load(): Promise<{ records: StoredRecord[]; ledger: LedgerRow[] }> {
    return { records: [], ledger: [] };
  }
  async commit(_writes: readonly RecordWrite[], _ledger: LedgerRow | undefined): Promise<void> {}
  async reset(): Promise<void> {}
  async close(): Promise<void> {}
}
