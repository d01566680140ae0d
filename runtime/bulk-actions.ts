import type { BulkAction } from './bulk-types.ts';
import type { Caller, InstanceView, SendResult } from './types.ts';

/** What a bulk action did to one instance: applied, or not applicable to it as it is (nothing changed). */
export type BulkOutcome = 'done' | 'skipped';

/** Options every per-instance command of a bulk job gets: the job's tenant, its starter as caller, its reason. */
export interface BulkCommandOptions {
  readonly tenant: string;
  readonly caller?: Caller;
  readonly reason?: string;
  /** The version a migration moves instances to. */
  readonly to?: string;
}

/** The runtime's operator commands, by stored instance id, as bulk actions call them. */
export interface BulkTarget {
  get(id: string, o: BulkCommandOptions): Promise<InstanceView>;
  cancel(id: string, o: BulkCommandOptions): Promise<InstanceView>;
  retry(id: string, o: BulkCommandOptions): Promise<SendResult>;
  pause(id: string, o: BulkCommandOptions): Promise<InstanceView>;
  resume(id: string, o: BulkCommandOptions): Promise<InstanceView>;
  restart(id: string, o: BulkCommandOptions): Promise<unknown>;
  migrate(id: string, o: BulkCommandOptions & { to: string }): Promise<unknown>;
}

type ActionFn = (t: BulkTarget, id: string, o: BulkCommandOptions) => Promise<BulkOutcome>;

/**
 * Each bulk action as one operator command per instance, through the same entry points as the single-instance
 * routes (one event, one commit each). A new action is one entry here and one name in {@link BulkAction}:
 * the job, its store, the API and the report need nothing else.
 */
export const BULK_ACTIONS: Record<BulkAction, ActionFn> = {
  async cancel(t, id, o) {
    const before = await t.get(id, o);
    if (before.status !== 'active') return 'skipped';
    // A saga past its point of no return, or already compensating, refuses the cancel: nothing changes.
    return (await t.cancel(id, o)).version === before.version ? 'skipped' : 'done';
  },
  async retry(t, id, o) {
    return (await t.retry(id, o)).handled ? 'done' : 'skipped';
  },
  async pause(t, id, o) {
    const before = await t.get(id, o);
    if (before.status !== 'active' || before.paused) return 'skipped';
    await t.pause(id, o);
    return 'done';
  },
  async resume(t, id, o) {
    if (!(await t.get(id, o)).paused) return 'skipped';
    await t.resume(id, o);
    return 'done';
  },
  async restart(t, id, o) {
    await t.restart(id, o);
    return 'done';
  },
  async migrate(t, id, o) {
    const before = await t.get(id, o);
    // Already on the version, or finished (a finished instance is never migrated): nothing to do.
    if (before.machine.version === o.to || before.status !== 'active') return 'skipped';
    await t.migrate(id, { ...o, to: o.to! });
    return 'done';
  },
};

/** The actions a bulk job can run. */
export const BULK_ACTION_NAMES = Object.keys(BULK_ACTIONS) as BulkAction[];
