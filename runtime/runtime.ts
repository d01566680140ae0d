import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import type { AnyStateMachine, EventObject } from 'xstate';
import type { StepRegistry } from './step-types.ts';
import { systemClock } from './clock.ts';
import { EffectDispatcher } from './effect-dispatcher.ts';
import { RuntimeError } from './errors.ts';
import { InstanceHost } from './instance-host.ts';
import { stepViews, workflowStatus } from './workflow-status.ts';
import { acceptedEventsOf, decodeCursor, encodeCursor, hashInput, recordView, view, type AcceptedEvent, type InstanceDetails } from './views.ts';
import type { Clock, EffectRecord, EventRecord, InstanceRecord, InstanceStore, ListFilter } from './ports.ts';
import { Registry, type RegisterOptions, type RegisteredMachine } from './registry.ts';
import { StepRunner } from './step-runner.ts';
import type { InstanceChange, InstanceView, SendOptions, SendResult, StartOptions, StartResult } from './types.ts';
import { checkEvent, checkId, checkStartOptions, checkTenant } from './validate.ts';

/** Options of {@link createRuntime}. */
export interface RuntimeOptions {
  readonly store: InstanceStore;
  readonly clock?: Clock;
  /** Identifies this process in leases; keep it stable across restarts of the same process (default: host name + pid). */
  readonly workerId?: string;
  /** How often due timers and orphaned effects are claimed (default 1000 ms; 0 disables). */
  readonly pollIntervalMs?: number;
  /** Timers due within this window are armed in memory (default 60 s). */
  readonly timerHorizonMs?: number;
  /** Idle instances kept in memory (default 10,000). */
  readonly maxCachedInstances?: number;
  readonly steps?: StepRegistry;
  /** Receives errors of background work (default: console.error). */
  readonly onError?: (error: unknown) => void;
}

/** Filters of {@link Runtime.list}. */
export type ListOptions = Partial<Omit<ListFilter, 'limit' | 'after'>> & { limit?: number; cursor?: string };

/**
 * The durable runtime: hosts persisted XState instances.
 *
 * @example
 * ```ts
 * const runtime = await createRuntime({ store });
 * runtime.register(orderMachine, { version: '1', steps: { chargeCard } });
 * const { id } = await runtime.start({ machine: 'order', input: { amount: 10 } });
 * await runtime.send(id, { type: 'order.confirm' });
 * ```
 */
export class Runtime {
  readonly registry = new Registry();
  readonly clock: Clock;
  readonly workerId: string;
  private readonly store: InstanceStore;
  private readonly host: InstanceHost;
  private readonly steps: StepRunner;
  private readonly dispatcher: EffectDispatcher;
  private readonly changes = new EventEmitter();
  private readonly inflight = new Set<Promise<unknown>>();
  private closed = false;
  private readonly onError: (e: unknown) => void;

  constructor(options: RuntimeOptions) {
    this.store = options.store;
    this.clock = options.clock ?? systemClock;
    this.workerId = options.workerId ?? `${hostname()}:${process.pid}`;
    this.onError = options.onError ?? ((e) => console.error('[statekeeper]', e));
    this.changes.setMaxListeners(0);
    const horizon = options.timerHorizonMs ?? 60_000;
    const track = <T,>(p: Promise<T>) => this.track(p);
    let dispatcher: EffectDispatcher | undefined;
    this.host = new InstanceHost({
      store: this.store,
      registry: this.registry,
      clock: this.clock,
      owner: this.workerId,
      timerHorizonMs: horizon,
      maxCached: options.maxCachedInstances ?? 10_000,
      afterCommit: (l, p, c) => dispatcher!.afterCommit(l, p, c),
    });
    this.steps = new StepRunner({ store: this.store, registry: this.registry, clock: this.clock, host: this.host, track, onError: this.onError });
    dispatcher = this.dispatcher = new EffectDispatcher({
      store: this.store,
      registry: this.registry,
      clock: this.clock,
      owner: this.workerId,
      host: this.host,
      steps: this.steps,
      pollIntervalMs: options.pollIntervalMs ?? 1000,
      timerHorizonMs: horizon,
      track,
      onError: this.onError,
      notify: (c) => this.changes.emit('change', c),
      stopInstance: (id, reason) => this.stopInstance(id, reason),
    });
    if (options.steps) this.registry.registerSteps(options.steps);
  }

  /** Registers a machine as `id@version` (and its step implementations, if given). */
  register(machine: AnyStateMachine, options: RegisterOptions): RegisteredMachine {
    return this.registry.register(machine, options);
  }

  /** Registers step implementations by the actor names machines invoke. */
  registerSteps(steps: StepRegistry): void {
    this.registry.registerSteps(steps);
  }

  /** Resumes what is due: open invocations, due timers, undelivered child results. Called by {@link createRuntime}. */
  async resume(): Promise<void> {
    await this.dispatcher.start();
  }

  /**
   * Starts an instance. With an idempotency key, a second start with the same
   * key returns the first instance (`created: false`); a different input under
   * the same key is refused with `idempotency_conflict`.
   */
  async start(options: StartOptions): Promise<StartResult> {
    this.assertOpen();
    checkStartOptions(options);
    const reg = this.registry.resolve(options.machine);
    const tenant = options.tenant ?? 'default';
    const inputHash = hashInput(reg.id, options.input);
    const key = options.idempotencyKey ?? null;
    if (key) {
      const existing = await this.store.getByIdempotencyKey(tenant, key);
      if (existing) return this.existing(existing, inputHash, key);
    }
    const id = options.instanceId ?? randomUUID();
    const { loaded, created } = await this.track(
      this.host.create({ reg, id, tenant, input: options.input, idempotencyKey: key, inputHash, parentId: null, parentRef: null, caller: options.caller }),
    );
    if (created) return { ...view(loaded), created: true };
    // Lost a race: the key or the id already exists.
    if (key) {
      const existing = await this.store.getByIdempotencyKey(tenant, key);
      if (existing) return this.existing(existing, inputHash, key);
    }
    throw new RuntimeError('instance_exists', `Instance "${id}" already exists; choose another id or use an idempotency key.`, { instanceId: id });
  }

  /** Sends an event; resolves after its commit with the new state and whether the state handled it. */
  async send(instanceId: string, event: EventObject & Record<string, unknown>, options: SendOptions = {}): Promise<SendResult> {
    this.assertOpen();
    checkId('send', 'instanceId', instanceId);
    checkEvent(event);
    if (options.tenant !== undefined) checkTenant('send', options.tenant);
    return this.track(this.host.apply(instanceId, event, { source: options.source ?? 'api', caller: options.caller, tenant: options.tenant, idempotencyKey: options.idempotencyKey }));
  }

  /** Current state of an instance (`instance_not_found` for an unknown id or another tenant's). */
  async get(instanceId: string, options: { tenant?: string } = {}): Promise<InstanceView> {
    checkId('get', 'instanceId', instanceId);
    const record = await this.store.get(instanceId);
    if (!record || (options.tenant !== undefined && record.tenant !== options.tenant)) throw RuntimeError.instanceNotFound(instanceId);
    return recordView(record);
  }

  /** Lists instances, newest first, with cursor pagination. */
  async list(options: ListOptions & { tenant?: string } = {}): Promise<{ items: InstanceView[]; nextCursor: string | null }> {
    const limit = options.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw RuntimeError.invalidArgument('list', 'limit must be an integer from 1 to 500');
    const after = options.cursor ? decodeCursor(options.cursor) : undefined;
    const rows = await this.store.list({ ...options, tenant: options.tenant ?? 'default', after, limit: limit + 1 });
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return { items: page.map((r) => recordView(r)), nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
  }

  /** History of an instance, oldest first. */
  async history(instanceId: string, options: { tenant?: string; afterSeq?: number; limit?: number } = {}): Promise<EventRecord[]> {
    await this.get(instanceId, options);
    return this.store.history(instanceId, options.afterSeq ?? 0, options.limit ?? 100);
  }

  /** Effect rows (steps, timers, children, sends) of an instance. */
  async effects(instanceId: string, options: { tenant?: string } = {}): Promise<EffectRecord[]> {
    await this.get(instanceId, options);
    return this.store.effects(instanceId);
  }

  /**
   * Stops an instance from outside: status `stopped`, open effects cancelled,
   * running steps aborted, child instances stopped. Idempotent.
   */
  async stopInstance(instanceId: string, reason = 'stopped', options: { tenant?: string; caller?: { id: string } } = {}): Promise<InstanceView> {
    const current = await this.get(instanceId, options);
    if (current.status !== 'active') return current;
    await this.track(
      this.host.mailboxes.run(instanceId, async () => {
        this.host.evict(instanceId);
        const rec = await this.store.get(instanceId);
        if (!rec || rec.status !== 'active') return;
        const res = await this.store.markStopped(instanceId, rec.version, { type: 'statekeeper.stop', payload: { reason }, source: 'operator', actor: options.caller?.id ?? null, handled: true, idempotencyKey: null }, this.clock.now());
        if (!res.ok) throw new RuntimeError('concurrency_exhausted', `Instance "${instanceId}" changed while stopping; retry.`, { instanceId });
        const effects = await this.store.effects(instanceId);
        for (const e of effects) if (e.kind === 'step') this.steps.cancel(instanceId, e.name);
        for (const e of effects) if (e.kind === 'child') await this.stopInstance(e.id, 'parent stopped').catch(() => undefined);
        const after = await this.host.load(instanceId);
        this.changes.emit('change', this.host.changeEvent(after, 'statekeeper.stop'));
      }),
    );
    return this.get(instanceId);
  }

  /**
   * Details for an operator view: the instance, the events its current state
   * accepts (with the roles each needs) and its effect rows.
   */
  async describe(instanceId: string, options: { tenant?: string } = {}): Promise<InstanceDetails> {
    await this.get(instanceId, options); // validation and tenant check
    // Instance and effects are two reads: retry until no commit fell between them, so the view is one version.
    let record = (await this.store.get(instanceId))!;
    let effects = await this.store.effects(instanceId);
    for (let i = 0; i < 10; i++) {
      const again = (await this.store.get(instanceId))!;
      if (again.version === record.version) break;
      record = again;
      effects = await this.store.effects(instanceId);
    }
    const base = recordView(record);
    const reg = this.registry.find(record.machineId, record.machineVersion);
    const acceptedEvents: AcceptedEvent[] = record.status === 'active' && reg ? acceptedEventsOf(this.host.hydrate(record).snapshot) : [];
    const steps = reg ? stepViews(reg.machine, { value: record.stateValue as never, context: base.context as never }, effects) : [];
    const children = effects.filter((e) => e.kind === 'child').map((e) => ({ id: e.id, invokeId: e.name, machine: e.target, status: e.status }));
    return { ...base, workflowStatus: workflowStatus(record, effects), acceptedEvents, steps, children, effects };
  }

  /**
   * Operator retry: sends `operator.retry` when the current state accepts it
   * (a saga waiting after a failed compensation or step). Idempotent: when
   * there is nothing to retry, reports `handled: false` and changes nothing.
   */
  async retry(instanceId: string, options: Omit<SendOptions, 'source'> = {}): Promise<SendResult> {
    const d = await this.describe(instanceId, options);
    if (d.status !== 'active' || !d.acceptedEvents.some((e) => e.type === 'operator.retry')) {
      return { instanceId, handled: false, duplicate: false, value: d.value, status: d.status, tags: d.tags, version: d.version };
    }
    return this.send(instanceId, { type: 'operator.retry' }, { ...options, source: 'operator' });
  }

  /**
   * Cancels an instance. A machine that defines `workflow.cancel` decides what
   * cancelling means: the event is sent when the current state accepts it (a
   * saga then compensates what was done), and when it does not (a saga already
   * compensating, or past its point of no return) nothing changes. A machine
   * without `workflow.cancel` is stopped. Idempotent.
   */
  async cancel(instanceId: string, options: Omit<SendOptions, 'source'> & { reason?: string } = {}): Promise<InstanceView> {
    const d = await this.describe(instanceId, options);
    if (d.status !== 'active') return d;
    if (d.acceptedEvents.some((e) => e.type === 'workflow.cancel')) {
      await this.send(instanceId, { type: 'workflow.cancel', ...(options.reason ? { reason: options.reason } : {}) }, { ...options, source: 'operator' });
      return this.get(instanceId);
    }
    const reg = this.registry.find(d.machine.id, d.machine.version);
    if (reg && declaresEvent(reg.machine.root, 'workflow.cancel')) return d;
    return this.stopInstance(instanceId, options.reason ?? 'cancelled', options);
  }

  /** Counts by machine and status, step failures and retries, outcomes and durations for a tenant. */
  stats(options: { tenant?: string } = {}) {
    return this.store.stats(options.tenant ?? 'default');
  }

  /** Subscribes to committed changes (all instances); returns the unsubscribe function. */
  subscribe(listener: (change: InstanceChange) => void): () => void {
    this.changes.on('change', listener);
    return () => this.changes.off('change', listener);
  }

  /**
   * Waits until `predicate` holds for the instance (checked now and after each
   * change), or rejects with `timeout` after `timeoutMs` of wall time.
   */
  async waitFor(instanceId: string, predicate: (v: InstanceView) => boolean, timeoutMs = 10_000): Promise<InstanceView> {
    const first = await this.get(instanceId);
    if (predicate(first)) return first;
    return new Promise<InstanceView>((resolve, reject) => {
      let done = false;
      const finish = (fn: () => void) => {
        if (done) return;
        done = true;
        unsubscribe();
        clearTimeout(timer);
        fn();
      };
      const check = () =>
        void this.get(instanceId).then(
          (v) => predicate(v) && finish(() => resolve(v)),
          (e) => finish(() => reject(e)),
        );
      const unsubscribe = this.subscribe((c) => c.instanceId === instanceId && check());
      const timer = setTimeout(() => finish(() => reject(new RuntimeError('timeout', `Instance "${instanceId}" did not reach the expected state within ${timeoutMs} ms.`, { instanceId }))), timeoutMs);
      check();
    });
  }

  /** Resolves when no event, step attempt or delivery is in flight (timers may still be waiting). */
  async settled(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
    await this.host.mailboxes.idle();
  }

  /** Instances held in memory (for tests and metrics). */
  get cachedInstances(): number {
    return this.host.cachedCount;
  }

  /**
   * Stops gracefully: no new work, in-flight commits finish, running steps are
   * aborted (they stay open and re-run after restart with the same key),
   * leases are released so another process can take over at once.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.dispatcher.stop();
    this.steps.stop();
    await this.settled();
    await this.store.releaseLeases(this.workerId).catch(this.onError);
    this.changes.removeAllListeners();
  }

  private existing(record: InstanceRecord, inputHash: string, key: string): StartResult {
    if (record.inputHash && record.inputHash !== inputHash) {
      throw new RuntimeError('idempotency_conflict', `Idempotency key "${key}" was used to start instance "${record.id}" with a different machine or input.`, { instanceId: record.id, idempotencyKey: key });
    }
    return { ...recordView(record), created: false };
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inflight.add(p);
    const remove = () => this.inflight.delete(p);
    p.then(remove, remove);
    return p;
  }

  private assertOpen(): void {
    if (this.closed) throw RuntimeError.closed();
  }
}

/**
 * Creates a runtime over a store and resumes due work (open steps, due timers).
 * Register machines before calling it when instances may already exist, or call
 * `runtime.resume()` yourself after registering: pass `resume: false`.
 */
export async function createRuntime(options: RuntimeOptions & { machines?: { machine: AnyStateMachine; options: RegisterOptions }[]; resume?: boolean }): Promise<Runtime> {
  const runtime = new Runtime(options);
  for (const m of options.machines ?? []) runtime.register(m.machine, m.options);
  if (options.resume !== false) await runtime.resume();
  return runtime;
}


/** True when any state of the machine has a transition for `type`. */
function declaresEvent(node: { transitions: Map<string, unknown>; states: Record<string, unknown> }, type: string): boolean {
  if (node.transitions.has(type)) return true;
  return Object.values(node.states).some((child) => declaresEvent(child as typeof node, type));
}
