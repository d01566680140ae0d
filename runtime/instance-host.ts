import type { AnyMachineSnapshot, EventObject } from 'xstate';
import { EventNotAllowedError, RuntimeError } from './errors.ts';
import { planEffects, type EffectPlan } from './effect-plan.ts';
import { eventStep, initialStep, persist, restore } from './machine-snapshot.ts';
import { Mailboxes } from './mailboxes.ts';
import type { Clock, EffectClose, EventSource, InstanceRecord, InstanceStore } from './ports.ts';
import type { Registry, RegisteredMachine } from './registry.ts';
import { ATTR, SPAN, captureTraceContext, inSpan, stateLabel, storedContext } from './telemetry.ts';
import type { Caller, InstanceChange, SendResult } from './types.ts';

/** An instance held in memory between events. */
export interface LoadedInstance {
  record: InstanceRecord;
  reg: RegisteredMachine;
  snapshot: AnyMachineSnapshot;
  lastUsed: number;
}

/** What happens after a commit: run steps, arm timers, deliver sends, start children, notify. */
export interface AfterCommit {
  (loaded: LoadedInstance, plan: EffectPlan, change: InstanceChange): void;
}

/** Options of one event application. */
export interface ApplyOptions {
  source: EventSource;
  caller?: Caller;
  tenant?: string;
  idempotencyKey?: string;
  /** The effect whose result this event is: committed only while it is open, closed in the same transaction. */
  closeEffect?: EffectClose;
}

export interface HostOptions {
  store: InstanceStore;
  registry: Registry;
  clock: Clock;
  owner: string;
  timerHorizonMs: number;
  afterCommit: AfterCommit;
  /** Idle instances are evicted beyond this many in memory. */
  maxCached: number;
}

const MAX_CONFLICT_RETRIES = 50;

/**
 * Hosts instances: loads them lazily, applies one event at a time per
 * instance, commits each event in one transaction, then hands the effects on.
 *
 * @remarks The decide/commit/do order is the heart of durability: nothing
 * runs before its effect row is committed, and a version conflict (another
 * process wrote first) reloads and recomputes rather than overwriting.
 */
export class InstanceHost {
  private readonly cache = new Map<string, LoadedInstance>();
  readonly mailboxes = new Mailboxes();

  constructor(private readonly o: HostOptions) {}

  /** Loads (or returns the cached) instance, validating its snapshot against its machine version. */
  async load(id: string): Promise<LoadedInstance> {
    const cached = this.cache.get(id);
    if (cached) {
      cached.lastUsed = Date.now();
      return cached;
    }
    const record = await this.o.store.get(id);
    if (!record) throw RuntimeError.instanceNotFound(id);
    return this.remember(this.hydrate(record));
  }

  /** Restores a stored record (no caching). */
  hydrate(record: InstanceRecord): LoadedInstance {
    const reg = this.o.registry.find(record.machineId, record.machineVersion);
    if (!reg) {
      throw new RuntimeError(
        'machine_version_not_found',
        `Instance "${record.id}" runs ${record.machineId}@${record.machineVersion}, which is not registered in this runtime; register that version to resume it.`,
        { instanceId: record.id, machine: record.machineId, version: record.machineVersion },
      );
    }
    const snapshot = restore(reg.machine, record.snapshot, { instanceId: record.id, machineRef: reg.ref, withParent: record.parentId !== null });
    return { record, reg, snapshot, lastUsed: Date.now() };
  }

  evict(id: string): void {
    this.cache.delete(id);
  }

  /** Creates an instance in its initial state (one transaction with its first effects). */
  async create(args: {
    reg: RegisteredMachine;
    id: string;
    tenant: string;
    input: unknown;
    idempotencyKey: string | null;
    inputHash: string | null;
    parentId: string | null;
    parentRef: string | null;
    startedBy?: string;
    caller?: Caller;
  }): Promise<{ loaded: LoadedInstance; created: boolean }> {
    const { reg } = args;
    return inSpan(SPAN.start, storedContext(null), { [ATTR.instanceId]: args.id, [ATTR.machine]: reg.ref, [ATTR.tenant]: args.tenant }, async (span) => {
      const [snapshot, actions] = initialStep(reg.machine, args.input, args.parentId !== null);
      const now = this.o.clock.now();
      const plan = this.plan(reg, args.id, args.parentId, 1, actions, now);
      const record: InstanceRecord = {
        id: args.id,
        tenant: args.tenant,
        machineId: reg.id,
        machineVersion: reg.version,
        ...this.changeOf(reg, snapshot),
        version: 1,
        parentId: args.parentId,
        parentRef: args.parentRef,
        idempotencyKey: args.idempotencyKey,
        inputHash: args.inputHash,
        traceContext: captureTraceContext(),
        createdAt: now,
        updatedAt: now,
      };
      const res = await this.o.store.create({
        record,
        event: { type: 'xstate.init', payload: args.input === undefined ? null : { input: args.input }, source: 'start', actor: args.caller?.id ?? null, handled: true, idempotencyKey: null },
        newEffects: plan.newEffects,
        outbox: plan.outbox,
        startedBy: args.startedBy,
      });
      span.setAttribute(ATTR.stateAfter, stateLabel(record.stateValue));
      if (!res.ok) return { loaded: await this.load(args.id).catch(() => undefined as never), created: false };
      const loaded = this.remember({ record, reg, snapshot, lastUsed: Date.now() });
      this.o.afterCommit(loaded, plan, this.changeEvent(loaded, 'xstate.init'));
      return { loaded, created: true };
    });
  }

  /** Applies one event through the instance's mailbox; resolves after the commit. */
  apply(id: string, event: EventObject, opts: ApplyOptions): Promise<SendResult> {
    return this.mailboxes.run(id, () => this.applyNow(id, event, opts));
  }

  private async applyNow(id: string, event: EventObject, opts: ApplyOptions): Promise<SendResult> {
    for (let attempt = 0; ; attempt++) {
      const loaded = await this.load(id);
      const { record, reg } = loaded;
      if (opts.tenant !== undefined && record.tenant !== opts.tenant) throw RuntimeError.instanceNotFound(id);
      if (opts.idempotencyKey) {
        const prior = await this.o.store.eventByIdempotencyKey(id, opts.idempotencyKey);
        if (prior) return this.result(loaded, prior.handled, true);
      }
      if (record.status !== 'active') {
        if (opts.closeEffect) {
          await this.o.store.closeEffect(opts.closeEffect.id, 'failed', { message: `instance ${id} is ${record.status}` }, this.o.clock.now());
          return this.result(loaded, false, false);
        }
        throw RuntimeError.notActive(id, record.status);
      }
      if (opts.caller?.roles) this.checkRoles(loaded, event, opts.caller.roles);

      const outcome = await inSpan(
        SPAN.event,
        storedContext(record.traceContext),
        { [ATTR.instanceId]: id, [ATTR.machine]: reg.ref, [ATTR.tenant]: record.tenant, [ATTR.eventType]: event.type, [ATTR.eventSource]: opts.source, [ATTR.stateBefore]: stateLabel(record.stateValue) },
        async (span) => {
          const [next, actions, handled] = eventStep(reg.machine, loaded.snapshot, event, record.parentId !== null);
          span.setAttribute(ATTR.handled, handled);
          // An unhandled event changes nothing, unless it closes an effect (a late step result, a timer).
          if (!handled && !opts.closeEffect) return { kind: 'unhandled' as const };
          const now = this.o.clock.now();
          const generation = record.version + 1;
          const plan = this.plan(reg, id, record.parentId, generation, actions, now);
          const change = this.changeOf(reg, next);
          const res = await this.o.store.commit({
            instanceId: id,
            expectedVersion: record.version,
            change,
            event: { type: event.type, payload: payloadOf(event), source: opts.source, actor: opts.caller?.id ?? null, handled, idempotencyKey: opts.idempotencyKey ?? null },
            closeEffect: opts.closeEffect,
            newEffects: plan.newEffects,
            cancel: plan.cancel,
            outbox: plan.outbox,
            now,
          });
          if (!res.ok) return { kind: res.reason };
          span.setAttribute(ATTR.stateAfter, stateLabel(change.stateValue));
          span.setAttribute(ATTR.status, change.status);
          loaded.record = { ...record, ...change, version: res.version, updatedAt: now };
          loaded.snapshot = next;
          return { kind: 'committed' as const, plan, handled };
        },
      );
      switch (outcome.kind) {
        case 'unhandled':
          return this.result(loaded, false, false);
        case 'committed':
          this.o.afterCommit(loaded, outcome.plan, this.changeEvent(loaded, event.type));
          return this.result(loaded, outcome.handled, false);
        case 'effect_closed':
          // The step was cancelled or already answered (a re-run after a crash): exactly one result counts.
          return this.result(loaded, false, false);
        case 'duplicate_event':
          this.evict(id);
          continue;
        case 'version_conflict':
          this.evict(id);
          if (attempt >= MAX_CONFLICT_RETRIES) {
            throw new RuntimeError('concurrency_exhausted', `Instance "${id}" kept changing under event "${event.type}" (${attempt} version conflicts); retry the request.`, { instanceId: id });
          }
      }
    }
  }

  /** Roles declared in the `meta.roles` of active state nodes: `{ 'event.type': ['role', ...] }`. */
  private checkRoles(loaded: LoadedInstance, event: EventObject, roles: readonly string[]): void {
    const required = requiredRoles(loaded.snapshot, event.type);
    if (required && !required.some((r) => roles.includes(r))) throw new EventNotAllowedError(loaded.record.id, event.type, required);
  }

  private plan(reg: RegisteredMachine, instanceId: string, parentId: string | null, generation: number, actions: Parameters<typeof planEffects>[0], now: Date): EffectPlan {
    return planEffects(actions, {
      instanceId,
      parentId,
      machine: reg.machine,
      generation,
      now,
      owner: this.o.owner,
      timerHorizonMs: this.o.timerHorizonMs,
      stepLeaseMs: (src) => this.o.registry.policyFor(reg.machine, src).timeoutMs + 30_000,
    });
  }

  private changeOf(reg: RegisteredMachine, snapshot: AnyMachineSnapshot) {
    return {
      snapshot: persist(reg.machine, snapshot),
      status: snapshot.status as InstanceRecord['status'],
      stateValue: snapshot.value as unknown,
      tags: [...snapshot.tags].sort(),
      output: snapshot.status === 'done' ? (snapshot.output ?? null) : null,
      error: snapshot.status === 'error' ? serializeError(snapshot.error) : null,
    };
  }

  private result(loaded: LoadedInstance, handled: boolean, duplicate: boolean): SendResult {
    const r = loaded.record;
    return { instanceId: r.id, handled, duplicate, value: r.stateValue, status: r.status, tags: r.tags, version: r.version };
  }

  changeEvent(loaded: LoadedInstance, eventType: string): InstanceChange {
    const r = loaded.record;
    return { instanceId: r.id, tenant: r.tenant, version: r.version, value: r.stateValue, status: r.status, tags: r.tags, eventType };
  }

  private remember(loaded: LoadedInstance): LoadedInstance {
    this.cache.set(loaded.record.id, loaded);
    if (this.cache.size > this.o.maxCached) this.evictIdle();
    return loaded;
  }

  /** Drops the least recently used instances that have no event in flight. */
  private evictIdle(): void {
    const idle = [...this.cache.values()].filter((l) => !this.mailboxes.busy(l.record.id)).sort((a, b) => a.lastUsed - b.lastUsed);
    for (const l of idle.slice(0, Math.max(0, this.cache.size - Math.floor(this.o.maxCached * 0.9)))) this.cache.delete(l.record.id);
  }

  /** Evicts instances with no event for `idleMs` (called from the poll loop). */
  evictOlderThan(idleMs: number): void {
    const cutoff = Date.now() - idleMs;
    for (const [id, l] of this.cache) if (l.lastUsed < cutoff && !this.mailboxes.busy(id)) this.cache.delete(id);
  }

  get cachedCount(): number {
    return this.cache.size;
  }
}

/** Roles required for `eventType` by the active state nodes' `meta.roles`, if any declare it. */
export function requiredRoles(snapshot: AnyMachineSnapshot, eventType: string): string[] | undefined {
  let required: string[] | undefined;
  for (const meta of Object.values(snapshot.getMeta() as Record<string, { roles?: Record<string, string[]> } | undefined>)) {
    const r = meta?.roles?.[eventType] ?? meta?.roles?.['*'];
    if (r) required = [...(required ?? []), ...r];
  }
  return required;
}

function payloadOf(event: EventObject): unknown {
  const { type: _type, ...rest } = event as EventObject & Record<string, unknown>;
  return Object.keys(rest).length ? rest : null;
}

/** A JSON form of an error for history and `xstate.error.actor` events. */
export function serializeError(e: unknown): { name: string; message: string; details?: unknown } {
  if (e instanceof Error) {
    const details = (e as { details?: unknown }).details;
    return { name: e.name, message: e.message, ...(details !== undefined ? { details } : {}) };
  }
  if (e && typeof e === 'object' && 'message' in e) return { name: 'Error', message: String((e as { message: unknown }).message) };
  return { name: 'Error', message: String(e) };
}

