import type {
  CommitRequest,
  CommitResult,
  CorrelationQuery,
  CreateRequest,
  CreateResult,
  EffectRecord,
  EventRecord,
  InstanceRecord,
  InstanceStore,
  ListFilter,
  NewEffect,
  StoreStats,
  VersionCount,
} from '../../runtime/ports.ts';
import type { TaskFilter, TaskRecord } from '../../runtime/tasks.ts';
import type { BulkStore, WithBulkStore } from '../../runtime/bulk-types.ts';
import type { SecretFields, SecretPolicy } from './secret-fields.ts';

/**
 * An {@link InstanceStore} that encrypts what machines mark secret before it
 * reaches the store underneath, and decrypts on the way back: snapshots
 * (context, output), history payloads, step inputs, results and sent events,
 * outbox payloads. The database only ever holds ciphertext for those values;
 * plaintext exists only in this process.
 *
 * @remarks A decorator at the port, so the runtime and the Postgres adapter
 * stay unaware of it. Which machine an instance runs is learned from the
 * records passing through (create, get, list); a commit for an instance not
 * seen yet reads it once.
 *
 * @example
 * ```ts
 * const store = new SealedStore(new PgInstanceStore(orm), new SecretFields(cipher), (id) => policies.get(id));
 * ```
 */
export class SealedStore implements InstanceStore, WithBulkStore {
  private readonly machineOf = new Map<string, string>();

  constructor(
    private readonly inner: InstanceStore,
    private readonly fields: SecretFields,
    private readonly policyOf: (machineId: string) => SecretPolicy | undefined,
  ) {}

  async create(req: CreateRequest): Promise<CreateResult> {
    this.remember(req.record);
    const p = this.policyOf(req.record.machineId);
    if (!p) return this.inner.create(req);
    const record = {
      ...req.record,
      snapshot: this.fields.sealSnapshot(req.record.snapshot, p),
      output: this.fields.seal(req.record.output, p),
    };
    return this.inner.create({
      ...req,
      record,
      event: this.sealEvent(req.event, p),
      newEffects: this.sealEffects(req.newEffects, p),
      outbox: this.sealOutbox(req.outbox, p),
      ...(req.priorEvents && { priorEvents: req.priorEvents.map((e) => this.sealEvent(e, p)) }),
    });
  }

  async commit(req: CommitRequest): Promise<CommitResult> {
    const p = await this.policyFor(req.instanceId);
    if (!p) return this.inner.commit(req);
    const f = this.fields;
    return this.inner.commit({
      ...req,
      change: { ...req.change, snapshot: f.sealSnapshot(req.change.snapshot, p), output: f.seal(req.change.output, p) },
      event: this.sealEvent(req.event, p),
      ...(req.closeEffect && { closeEffect: { ...req.closeEffect, result: f.seal(req.closeEffect.result, p) } }),
      newEffects: this.sealEffects(req.newEffects, p),
      outbox: this.sealOutbox(req.outbox, p),
    });
  }

  /**
   * The inner store's bulk jobs: they hold ids, counts and filters, never instance values. A context filter
   * compares stored values, so it does not match a field this store encrypts.
   */
  bulkStore(): BulkStore {
    const inner = (this.inner as Partial<WithBulkStore>).bulkStore;
    if (!inner) throw new Error('the store under SealedStore keeps no bulk jobs');
    return inner.call(this.inner);
  }

  async get(id: string) {
    return this.openInstance(await this.inner.get(id));
  }

  async getByIdempotencyKey(tenant: string, key: string) {
    return this.openInstance(await this.inner.getByIdempotencyKey(tenant, key));
  }

  async list(filter: ListFilter) {
    return (await this.inner.list(filter)).map((r) => this.openInstance(r)!);
  }

  async history(instanceId: string, afterSeq: number, limit: number) {
    return (await this.inner.history(instanceId, afterSeq, limit)).map((e) => this.openEvent(e));
  }

  async eventByIdempotencyKey(instanceId: string, key: string) {
    const e = await this.inner.eventByIdempotencyKey(instanceId, key);
    return e && this.openEvent(e);
  }

  async effects(instanceId: string) {
    return (await this.inner.effects(instanceId)).map((e) => this.openEffect(e));
  }

  async getEffect(id: string) {
    const e = await this.inner.getEffect(id);
    return e && this.openEffect(e);
  }

  async claimDue(owner: string, now: Date, dueBefore: Date, leaseUntil: Date, limit: number) {
    return (await this.inner.claimDue(owner, now, dueBefore, leaseUntil, limit)).map((e) => this.openEffect(e));
  }

  async finishedChildren(limit: number) {
    return (await this.inner.finishedChildren(limit)).map(({ effect, child }) => ({
      effect: this.openEffect(effect),
      child: this.openInstance(child)!,
    }));
  }

  recordAttempt(effectId: string, attempt: number, now: Date): Promise<boolean> {
    return this.inner.recordAttempt(effectId, attempt, now);
  }

  releaseAttempt(effectId: string, attempt: number, now: Date): Promise<void> {
    return this.inner.releaseAttempt(effectId, attempt, now);
  }

  scheduleRetry(effectId: string, attempts: number, dueAt: Date, leaseUntil: Date | null, lastError: unknown, now: Date): Promise<void> {
    return this.inner.scheduleRetry(effectId, attempts, dueAt, leaseUntil, lastError, now);
  }

  closeEffect(id: string, status: 'done' | 'failed' | 'cancelled', error: unknown, now: Date): Promise<boolean> {
    return this.inner.closeEffect(id, status, error, now);
  }

  releaseLeases(owner: string): Promise<void> {
    return this.inner.releaseLeases(owner);
  }

  renewLeases(owner: string, ids: readonly string[], leaseUntil: Date, now: Date): Promise<string[]> {
    return this.inner.renewLeases(owner, ids, leaseUntil, now);
  }

  // Task rows hold what the machine's meta declares (titles, forms, roles), never context values: nothing to seal.
  listTasks(filter: TaskFilter): Promise<TaskRecord[]> {
    return this.inner.listTasks(filter);
  }

  /** Correlation values are business keys, indexed as they are (a secret field makes a poor key). */
  findCorrelated(query: CorrelationQuery): Promise<string[]> {
    return this.inner.findCorrelated(query);
  }

  getTask(id: string): Promise<TaskRecord | undefined> {
    return this.inner.getTask(id);
  }

  claimTask(id: string, from: string | null, to: string | null, now: Date): Promise<boolean> {
    return this.inner.claimTask(id, from, to, now);
  }

  stats(tenant: string): Promise<StoreStats> {
    return this.inner.stats(tenant);
  }

  countByVersion(tenant: string, machineId: string): Promise<VersionCount[]> {
    return this.inner.countByVersion(tenant, machineId);
  }

  /** Schedules hold no workflow data that machines mark secret: passed through. */
  get schedules() {
    return this.inner.schedules;
  }

  /** Retention removes rows whole, sealed or not: passed through. */
  get purgeFinished() {
    return this.inner.purgeFinished?.bind(this.inner);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private remember(r: InstanceRecord): void {
    this.machineOf.set(r.id, r.machineId);
  }

  private async policyFor(instanceId: string): Promise<SecretPolicy | undefined> {
    let machineId = this.machineOf.get(instanceId);
    if (machineId === undefined) {
      const r = await this.inner.get(instanceId);
      if (!r) return undefined;
      machineId = r.machineId;
      this.remember(r);
    }
    return this.policyOf(machineId);
  }

  private sealEvent<E extends { payload: unknown }>(event: E, p: SecretPolicy | undefined): E {
    return p ? { ...event, payload: this.fields.seal(event.payload, p) } : event;
  }

  private sealEffects(effects: NewEffect[], p: SecretPolicy): NewEffect[] {
    return effects.map((e) => ({ ...e, input: this.fields.seal(e.input, p), event: this.fields.seal(e.event, p) }));
  }

  private sealOutbox(outbox: CreateRequest['outbox'], p: SecretPolicy): CreateRequest['outbox'] {
    return outbox.map((o) => ({ ...o, payload: this.fields.seal(o.payload, p) }));
  }

  private openInstance(r: InstanceRecord | undefined): InstanceRecord | undefined {
    if (!r) return r;
    this.remember(r);
    return { ...r, snapshot: this.fields.open(r.snapshot), output: this.fields.open(r.output) };
  }

  private openEvent(e: EventRecord): EventRecord {
    return { ...e, payload: this.fields.open(e.payload) };
  }

  private openEffect(e: EffectRecord): EffectRecord {
    const f = this.fields;
    return { ...e, input: f.open(e.input), event: f.open(e.event), result: f.open(e.result) };
  }
}
