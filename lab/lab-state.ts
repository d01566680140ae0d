import { LabError } from './errors.ts';
import { MemoryLabStore, type LabStore, type LedgerRow, type RecordWrite } from './lab-store.ts';
import type { SystemName } from './operations.ts';

/** Where a system's tables come from: a {@link LabState}. */
export interface Tables {
  /** The table named `name` (e.g. `customers.customer`), created empty on first use. */
  table<V>(name: string): Table<V>;
}

/**
 * A system's records of one kind, keyed by id: a `Map` whose changes a
 * {@link LabState} writes to its store at the end of each call.
 *
 * @remarks Inside a call every `get`, `set` and `delete` remembers the
 * record as it was, so that records changed in place (a status set on the
 * object `get` returned) are written too, and a call that fails leaves the
 * table as it found it. Iteration (`values`) does not count as touching:
 * change a record found that way through `get` or `set`.
 */
export class Table<V> {
  private readonly rows = new Map<string, V>();

  constructor(
    readonly name: string,
    private readonly state: LabState,
  ) {}

  get(id: string): V | undefined {
    this.state.touch(this, id);
    return this.rows.get(id);
  }

  has(id: string): boolean {
    return this.rows.has(id);
  }

  set(id: string, value: V): this {
    this.state.touch(this, id);
    this.rows.set(id, value);
    return this;
  }

  delete(id: string): boolean {
    this.state.touch(this, id);
    return this.rows.delete(id);
  }

  values(): IterableIterator<V> {
    return this.rows.values();
  }

  get size(): number {
    return this.rows.size;
  }

  /** Forgets every row (memory only: {@link LabState.reset} empties the store). */
  clear(): void {
    this.rows.clear();
  }

  /** The row as stored now, for the state's bookkeeping. */
  peek(id: string): V | undefined {
    return this.rows.get(id);
  }

  /** Puts a row back without bookkeeping (loading, undoing). */
  restore(id: string, value: V | undefined): void {
    if (value === undefined) this.rows.delete(id);
    else this.rows.set(id, value);
  }
}

/** A row as a call found it: JSON text, or undefined when there was none. */
type Before = { table: Table<unknown>; id: string; json: string | undefined };

/**
 * The lab's records in memory, written through to a {@link LabStore} one call
 * at a time.
 *
 * @remarks Mutating calls run one after another ({@link transact}); each
 * ends in one store transaction holding the rows it changed and its
 * idempotency record, so a process killed at any moment leaves either both
 * or neither: a retried key finds its first result, and a record never
 * exists without the key that made it. The memory is the store's cache:
 * one lab process owns a database's `lab` schema at a time (RADIUS rows,
 * locked per username, are the exception). With the memory store (the
 * default) nothing is written anywhere and the lab forgets on restart, which
 * is what unit tests want.
 */
export class LabState implements Tables {
  private readonly tables = new Map<string, Table<unknown>>();
  private loaded: Promise<void> | undefined;
  private loadedRows = new Map<string, Map<string, unknown>>();
  private ledgerRows: LedgerRow[] = [];
  private touched: Map<string, Before> | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly store: LabStore = new MemoryLabStore()) {}

  table<V>(name: string): Table<V> {
    let table = this.tables.get(name) as Table<V> | undefined;
    if (!table) {
      table = new Table<V>(name, this);
      this.tables.set(name, table as Table<unknown>);
      for (const [id, value] of this.loadedRows.get(name) ?? []) table.restore(id, value as V);
    }
    return table;
  }

  /**
   * Loads the store's rows into the tables, once; later calls wait for the
   * same load. A failed load is retried by the next call, and so is one
   * after a write whose outcome is unknown (see {@link transact}).
   */
  ready(system: SystemName | 'lab' = 'lab', operation = 'load'): Promise<void> {
    const loaded = this.loaded ?? this.serial(() => this.loadOnce());
    return loaded.catch((error: unknown) => {
      throw upstream(system, operation, error);
    });
  }

  /** Idempotency records found by the load, for the ledger to take over. */
  takeLoadedLedger(): LedgerRow[] {
    const rows = this.ledgerRows;
    this.ledgerRows = [];
    return rows;
  }

  /**
   * Runs `apply` alone, then writes what it changed (and, with `ledger`, the
   * result under that key) in one store transaction.
   * @remarks When `apply` or the write fails, the tables go back to what
   * they held before and the error propagates: nothing was applied.
   */
  transact<T>(at: { system: SystemName | 'lab'; operation: string; key?: string }, apply: () => Promise<T>): Promise<T> {
    return this.serial(async () => {
      try {
        await this.loadOnce();
      } catch (error) {
        throw upstream(at.system, at.operation, error);
      }
      // A result found by a reload (its commit landed although it seemed to fail) answers a repeat without applying.
      const recorded = this.ledgerRows.find((r) => r.scope === `${at.system}.${at.operation}` && r.key === at.key);
      if (at.key !== undefined && recorded) return recorded.result as T;
      this.touched = new Map();
      try {
        const value = await apply();
        const ledger = at.key === undefined ? undefined : { scope: `${at.system}.${at.operation}`, key: at.key, result: value };
        try {
          await this.store.commit(this.writes(), ledger);
        } catch (error) {
          // The commit may have landed (the connection broke after COMMIT was sent): the store is the truth, so the next
          // call reads it again instead of trusting this process's memory (ids, keys) either way.
          this.loaded = undefined;
          throw upstream(at.system, at.operation, error);
        }
        return value;
      } catch (error) {
        this.undo();
        throw error;
      } finally {
        this.touched = undefined;
      }
    });
  }

  // One call at a time: loads and calls queue here.
  private serial<T>(work: () => Promise<T>): Promise<T> {
    const result = this.queue.then(work, work);
    this.queue = result.catch(() => {});
    return result;
  }

  private loadOnce(): Promise<void> {
    this.loaded ??= this.load().catch((error: unknown) => {
      this.loaded = undefined;
      throw error;
    });
    return this.loaded;
  }

  /** Remembers a row as the running call first saw it (outside a call: nothing to do). */
  touch(table: Table<unknown>, id: string): void {
    if (!this.touched) return;
    const at = `${table.name}\u0000${id}`;
    if (this.touched.has(at)) return;
    const value = table.peek(id);
    this.touched.set(at, { table, id, json: value === undefined ? undefined : JSON.stringify(value) });
  }

  /** Empties every table and the store. */
  async reset(): Promise<void> {
    for (const table of this.tables.values()) table.clear();
    this.loadedRows = new Map();
    await this.store.reset();
  }

  private async load(): Promise<void> {
    const { records, ledger } = await this.store.load();
    this.loadedRows = new Map();
    for (const r of records) {
      let rows = this.loadedRows.get(r.table);
      if (!rows) this.loadedRows.set(r.table, (rows = new Map()));
      rows.set(r.id, r.data);
    }
    for (const table of this.tables.values()) {
      table.clear();
      for (const [id, value] of this.loadedRows.get(table.name) ?? []) table.restore(id, value);
    }
    this.ledgerRows = ledger;
  }

  private writes(): RecordWrite[] {
    const writes: RecordWrite[] = [];
    for (const { table, id, json } of this.touched!.values()) {
      const now = table.peek(id);
      const nowJson = now === undefined ? undefined : JSON.stringify(now);
      if (nowJson !== json) writes.push({ table: table.name, id, data: now === undefined ? null : now });
    }
    return writes;
  }

  private undo(): void {
    for (const { table, id, json } of this.touched!.values()) table.restore(id, json === undefined ? undefined : JSON.parse(json));
  }
}

// The lab's database failing is the system being down: retryable, like a 503.
function upstream(system: SystemName | 'lab', operation: string, error: unknown): unknown {
  if (error instanceof LabError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new LabError('upstream_error', system, operation, `the lab's database failed: ${message}`, true, 503, { cause: error });
}
