import type { ChangeFeed } from './change-feed.ts';
import { RuntimeError } from './errors.ts';
import { DEFAULT_TENANT, publicId, storedId } from './instance-ids.ts';
import type { InstanceCache } from './instance-cache.ts';
import type { EffectRecord, EventRecord, InstanceStore, ListFilter, StoreStats } from './ports.ts';
import type { Registry } from './registry.ts';
import type { InstanceChange, InstanceView } from './types.ts';
import { checkId } from './validate.ts';
import { acceptedEventsOf, decodeCursor, encodeCursor, recordView, type AcceptedEvent, type InstanceDetails } from './views.ts';
import { stepViews, workflowStatus } from './workflow-status.ts';

/** Filters of {@link Runtime.list}. */
export type ListOptions = Partial<Omit<ListFilter, 'limit' | 'after'>> & { limit?: number; cursor?: string };

/** Options of {@link InstanceQueries.waitUntil}. */
export interface WaitUntilOptions {
  /** Wall time to wait at most (default 10 s). */
  readonly timeoutMs?: number;
  /** Wake on changes of this instance only / of this tenant only (default: any change). */
  readonly instanceId?: string;
  readonly tenant?: string;
  /** Also check this often: covers another process's change whose announcement was lost (default 250 ms). */
  readonly pollMs?: number;
}

/** How many times {@link InstanceQueries.describe} re-reads when a commit falls between its reads. */
const CONSISTENT_READ_ROUNDS = 20;

/**
 * The runtime's reads: instances, lists, history, effects, the operator view
 * and the wait for a condition. They read the store (the truth, also for
 * instances another process runs), never the cache.
 */
export class InstanceQueries {
  constructor(private readonly o: { store: InstanceStore; registry: Registry; instances: InstanceCache; feed: ChangeFeed }) {}

  /** Current state of an instance (`instance_not_found` for an unknown id or another tenant's). */
  async get(instanceId: string, options: { tenant?: string } = {}): Promise<InstanceView> {
    checkId('get', 'instanceId', instanceId);
    const record = await this.o.store.get(instanceId);
    if (!record || (options.tenant !== undefined && record.tenant !== options.tenant)) throw RuntimeError.instanceNotFound(instanceId);
    return recordView(record);
  }

  /** Lists instances, newest first, with cursor pagination. */
  async list(options: ListOptions & { tenant?: string } = {}): Promise<{ items: InstanceView[]; nextCursor: string | null }> {
    const limit = options.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > 500)
      throw RuntimeError.invalidArgument('list', 'limit must be an integer from 1 to 500');
    const after = options.cursor ? decodeCursor(options.cursor) : undefined;
    const rows = await this.o.store.list({ ...options, tenant: options.tenant ?? DEFAULT_TENANT, after, limit: limit + 1 });
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return { items: page.map((r) => recordView(r)), nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
  }

  /** History of an instance, oldest first. */
  async history(instanceId: string, options: { tenant?: string; afterSeq?: number; limit?: number } = {}): Promise<EventRecord[]> {
    await this.get(instanceId, options);
    return this.o.store.history(instanceId, options.afterSeq ?? 0, options.limit ?? 100);
  }

  /** Effect rows (steps, timers, children, sends) of an instance. */
  async effects(instanceId: string, options: { tenant?: string } = {}): Promise<EffectRecord[]> {
    const { tenant } = await this.get(instanceId, options);
    return (await this.o.store.effects(instanceId)).map((e) => publicEffect(tenant, e));
  }

  /** Counts by machine and status, step failures and retries, outcomes and durations for a tenant. */
  stats(options: { tenant?: string } = {}): Promise<StoreStats> {
    return this.o.store.stats(options.tenant ?? DEFAULT_TENANT);
  }

  /**
   * Details for an operator view, all of one version: the instance, the events
   * its current state accepts (with the roles each needs), its steps, children
   * and effect rows.
   *
   * @remarks Instance and effects are two reads; they are repeated until no
   * commit fell between them (versions only grow), so the view never mixes two versions.
   */
  async describe(instanceId: string, options: { tenant?: string } = {}): Promise<InstanceDetails> {
    await this.get(instanceId, options); // validation and tenant check
    let record = await this.mustGet(instanceId);
    const openTasks = () => this.o.store.listTasks({ tenant: record.tenant, instanceId, now: new Date(), limit: 500 });
    let [effects, tasks] = await Promise.all([this.o.store.effects(instanceId), openTasks()]);
    for (let i = 0; i < CONSISTENT_READ_ROUNDS; i++) {
      const again = await this.mustGet(instanceId);
      if (again.version === record.version) break;
      record = again;
      [effects, tasks] = await Promise.all([this.o.store.effects(instanceId), openTasks()]);
    }
    const base = recordView(record);
    const reg = this.o.registry.find(record.machineId, record.machineVersion);
    const acceptedEvents: AcceptedEvent[] =
      record.status === 'active' && reg ? acceptedEventsOf(this.o.instances.hydrate(record).snapshot) : [];
    const steps = reg ? stepViews(reg, { value: record.stateValue as never, context: base.context }, effects) : [];
    // Effect ids (a child effect's is its child instance's id) are shown as the tenant names them.
    const shown = effects.map((e) => publicEffect(record.tenant, e));
    const children = shown
      .filter((e) => e.kind === 'child')
      .map((e) => ({ id: e.id, invokeId: e.name, machine: e.target, status: e.status }));
    const shownTasks = tasks.map((t) => ({ ...t, id: publicId(t.tenant, t.id), instanceId: publicId(t.tenant, t.instanceId) }));
    return {
      ...base,
      workflowStatus: workflowStatus(record, effects),
      acceptedEvents,
      steps,
      children,
      effects: shown,
      tasks: shownTasks,
    };
  }

  /**
   * Waits until `check` returns a value (checked now, after each matching
   * committed change and on each poll); `undefined` when the time is up.
   * The one wait loop of the runtime: {@link waitFor} and the API's waits use it.
   */
  waitUntil<T>(check: () => Promise<T | undefined>, options: WaitUntilOptions = {}): Promise<T | undefined> {
    const { instanceId, tenant } = options;
    // A change names the instance by its public id; the caller may name it by either.
    const wake = (c: Pick<InstanceChange, 'instanceId' | 'tenant'>) =>
      (instanceId === undefined || c.instanceId === instanceId || storedId(c.tenant, c.instanceId) === instanceId) &&
      (tenant === undefined || c.tenant === tenant);
    return this.o.feed.waitUntil(check, { timeoutMs: options.timeoutMs ?? 10_000, pollMs: options.pollMs ?? 250, wake });
  }

  /** Waits until `predicate` holds for the instance, or rejects with `timeout` after `timeoutMs` of wall time. */
  async waitFor(instanceId: string, predicate: (v: InstanceView) => boolean, timeoutMs = 10_000): Promise<InstanceView> {
    const found = await this.waitUntil(
      async () => {
        const v = await this.get(instanceId);
        return predicate(v) ? v : undefined;
      },
      { instanceId, timeoutMs },
    );
    if (!found)
      throw new RuntimeError('timeout', `Instance "${instanceId}" did not reach the expected state within ${timeoutMs} ms.`, {
        instanceId,
      });
    return found;
  }

  private async mustGet(instanceId: string) {
    const record = await this.o.store.get(instanceId);
    if (!record) throw RuntimeError.instanceNotFound(instanceId);
    return record;
  }
}

/** An effect row with its ids as `tenant` names them. */
function publicEffect(tenant: string, e: EffectRecord): EffectRecord {
  return { ...e, id: publicId(tenant, e.id), instanceId: publicId(tenant, e.instanceId) };
}
