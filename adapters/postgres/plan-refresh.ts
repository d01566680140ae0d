/**
 * Tells when a connection's cached plans of the hot statements are older than the store's scale, so that they are
 * made again (`DISCARD PLANS`) before its next statement.
 *
 * @remarks PostgreSQL makes a named statement's generic plan at its sixth run on a connection and keeps it until
 * the statistics of its tables change (autovacuum's analyze). Made while `sk_instance` held a few hundred rows,
 * the commit's plan reads the table in full, and a store growing from empty keeps paying that, more with every
 * row, until autovacuum gets to the table: measured 10-20 s into a run on the embedded server (10 s naptime), up to
 * a minute on a server with PostgreSQL's default. Crossing each threshold of instances this store has created
 * marks every connection's plans stale once; `DISCARD PLANS` keeps the prepared statements, and their next run
 * plans for the tables' current size. A connection first seen after a threshold has no older plans to drop.
 * Through a transaction-mode pooler tracking named statements, the discard reaches whichever server connection
 * runs it: harmless, and autovacuum re-plans the others.
 */
export class PlanRefresh {
  private generation = 0;
  private createdSoFar = 0;
  private readonly planned = new WeakMap<object, number>();

  constructor(private readonly thresholds: readonly number[] = [1_000, 10_000, 100_000]) {}

  /** Counts instances this store created. */
  created(n: number): void {
    const before = this.createdSoFar;
    this.createdSoFar += n;
    for (const t of this.thresholds) if (before < t && this.createdSoFar >= t) this.generation++;
  }

  /** Whether `connection` holds plans made before the last threshold crossed; it counts as re-planned from now. */
  stale(connection: object): boolean {
    const made = this.planned.get(connection);
    this.planned.set(connection, this.generation);
    return made !== undefined && made < this.generation;
  }
}
