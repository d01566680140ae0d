import type { Row } from './rows.ts';

/** A statement for a batch of writes of one kind, and how to read each write's outcome from its rows. */
export interface BatchSql<R> {
  /** Name of the server-side prepared statement (the driver prepares it once per connection). */
  name: string;
  sql: string;
  params: unknown[];
  read(rows: Row[]): R[];
}

/** One text of a batch statement: its prepared statement name, its SQL, and which features it has. */
export interface StatementText<F extends string> {
  name: string;
  sql: string;
  has(f: F): boolean;
}

/**
 * The texts of one batch statement, one per set of features a batch uses.
 *
 * @remarks A data-modifying CTE runs even when its input is empty, and each
 * costs executor start-up and a join: a commit of one event without effects,
 * outbox rows, tasks or correlation keys spent a third of its statement time
 * on CTEs that wrote nothing. So a CTE is written into the text only when a
 * request of the batch needs it, which changes nothing a batch writes. Each
 * feature set is its own named prepared statement (a name per set, stable
 * across processes), planned once per connection; in practice a workload
 * uses a handful of sets. Each plan a server connection keeps costs memory
 * (about 0.3 MB for the commit statement's smallest text, 1.3 MB for its
 * full one), so the sets are capped: past `maxTexts`, a new set runs the
 * text with every feature, which writes the same rows.
 */
export class FeatureStatements<F extends string> {
  private readonly texts = new Map<number, StatementText<F>>();

  constructor(
    /** Statement name prefix; bump its version when any text changes, so no connection runs an old plan. */
    private readonly prefix: string,
    /** Every feature, in a fixed order: a set's name is its bit mask over this list. */
    private readonly features: readonly F[],
    private readonly build: (has: (f: F) => boolean) => string,
    private readonly maxTexts = 16,
  ) {}

  /** The statement for a batch using `used`: its text may have more features (see the cap), never fewer. */
  text(used: ReadonlySet<F>): StatementText<F> {
    let mask = 0;
    for (const f of used) {
      const bit = this.features.indexOf(f);
      // A feature missing from the list would give two texts one name: a connection would run the wrong plan.
      if (bit < 0) throw new Error(`${this.prefix}: feature ${f} is not declared`);
      mask |= 1 << bit;
    }
    if (!this.texts.has(mask) && this.texts.size >= this.maxTexts) mask = 2 ** this.features.length - 1;
    let t = this.texts.get(mask);
    if (!t) {
      const m = mask;
      const has = (f: F) => (m & (1 << this.features.indexOf(f))) !== 0;
      t = { name: `${this.prefix}_${m.toString(36)}`, sql: this.build(has), has };
      this.texts.set(mask, t);
    }
    return t;
  }
}
