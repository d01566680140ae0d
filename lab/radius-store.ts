/** One row of FreeRADIUS's SQL `radcheck` or `radreply` table. */
export interface RadiusRow {
  id: number;
  username: string;
  attribute: string;
  op: string;
  value: string;
}

/** A row before it is stored. */
export type RadiusRowInput = Omit<RadiusRow, 'id' | 'username'>;

/** The rows of one account, or of all accounts. */
export interface RadiusTables<R = RadiusRow> {
  radcheck: R[];
  radreply: R[];
}

/** What {@link RadiusStore.createAccount} found. */
export type CreateAccountOutcome = 'created' | 'exists' | 'conflict';

/**
 * Storage of RADIUS accounts as `radcheck` / `radreply` rows.
 * @remarks Each method is atomic, so concurrent calls for one username cannot interleave.
 */
export interface RadiusStore {
  /**
   * Inserts the account's rows unless the username has rows already: `exists`
   * when they equal `rows` (ignoring `Auth-Type`), `conflict` otherwise.
   */
  createAccount(username: string, rows: RadiusTables<RadiusRowInput>): Promise<CreateAccountOutcome>;
  /** Deletes every row of the username (none is fine). */
  deleteAccount(username: string): Promise<void>;
  /** Adds or removes `Auth-Type := Reject`; false when the username has no rows. */
  setSuspended(username: string, suspended: boolean): Promise<boolean>;
  /** Every row, ordered by id. */
  rows(): Promise<RadiusTables>;
  /** Deletes every row. */
  reset(): Promise<void>;
  /** Releases what the store opened (a pool it created). */
  close(): Promise<void>;
}

/** The attribute whose `Reject` value suspends an account. */
export const AUTH_TYPE = 'Auth-Type';

/** Whether stored rows describe the same account as `wanted`, suspension aside. */
export function sameAccount(stored: RadiusTables<RadiusRowInput>, wanted: RadiusTables<RadiusRowInput>): boolean {
  const key = (rows: RadiusRowInput[]) =>
    rows
      .filter((r) => r.attribute !== AUTH_TYPE)
      .map((r) => `${r.attribute}\u0000${r.op}\u0000${r.value}`)
      .sort()
      .join('\n');
  return key(stored.radcheck) === key(wanted.radcheck) && key(stored.radreply) === key(wanted.radreply);
}

/** A {@link RadiusStore} in memory. */
export class MemoryRadiusStore implements RadiusStore {
  private tables: RadiusTables = { radcheck: [], radreply: [] };
  private nextId = { radcheck: 1, radreply: 1 };

  async createAccount(username: string, rows: RadiusTables<RadiusRowInput>): Promise<CreateAccountOutcome> {
    const stored = this.account(username);
    if (stored.radcheck.length + stored.radreply.length > 0) return sameAccount(stored, rows) ? 'exists' : 'conflict';
    for (const table of ['radcheck', 'radreply'] as const) {
      for (const row of rows[table]) this.tables[table].push({ id: this.nextId[table]++, username, ...row });
    }
    return 'created';
  }

  async deleteAccount(username: string): Promise<void> {
    this.tables.radcheck = this.tables.radcheck.filter((r) => r.username !== username);
    this.tables.radreply = this.tables.radreply.filter((r) => r.username !== username);
  }

  async setSuspended(username: string, suspended: boolean): Promise<boolean> {
    const stored = this.account(username);
    if (stored.radcheck.length + stored.radreply.length === 0) return false;
    const isAuthType = (r: RadiusRow) => r.username === username && r.attribute === AUTH_TYPE;
    const rejecting = this.tables.radcheck.some((r) => isAuthType(r) && r.op === ':=' && r.value === 'Reject');
    if (suspended && rejecting) return true;
    this.tables.radcheck = this.tables.radcheck.filter((r) => !isAuthType(r));
    if (suspended) {
      this.tables.radcheck.push({ id: this.nextId.radcheck++, username, attribute: AUTH_TYPE, op: ':=', value: 'Reject' });
    }
    return true;
  }

  async rows(): Promise<RadiusTables> {
    return structuredClone(this.tables);
  }

  async reset(): Promise<void> {
    this.tables = { radcheck: [], radreply: [] };
    this.nextId = { radcheck: 1, radreply: 1 };
  }

  async close(): Promise<void> {}

  private account(username: string): RadiusTables {
    return {
      radcheck: this.tables.radcheck.filter((r) => r.username === username),
      radreply: this.tables.radreply.filter((r) => r.username === username),
    };
  }
}
