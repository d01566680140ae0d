import { LabState, type Table, type Tables } from './lab-state.ts';

/**
 * Deterministic id sequences, one per prefix (`cust_000001`, `cust_000002`, …).
 *
 * @remarks Ids are predictable so that tests can assert them; they are never
 * reused within a lab, even after the record is deleted, until `reset()`;
 * on Postgres they continue after a restart.
 */
export class IdSequence {
  private readonly counters: Table<number>;

  constructor(tables: Tables = new LabState()) {
    this.counters = tables.table<number>('lab.ids');
  }

  /** The next id with this prefix. */
  next(prefix: string): string {
    return `${prefix}_${String(this.nextNumber(prefix)).padStart(6, '0')}`;
  }

  /** The next number of the sequence named `name`, starting at 1. */
  nextNumber(name: string): number {
    const n = (this.counters.get(name) ?? 0) + 1;
    this.counters.set(name, n);
    return n;
  }

  /** A 24-digit hex id like a MongoDB ObjectId (GenieACS task ids). */
  nextObjectId(name: string): string {
    return this.nextNumber(name).toString(16).padStart(24, '0');
  }

  /** Starts every sequence again at 1. */
  reset(): void {
    this.counters.clear();
  }
}
