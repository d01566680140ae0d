import type { AnyStateMachine } from 'xstate';
import { STEP_OUTCOME_FIELD, type StepOutcome } from './step.ts';
import type { StepContext } from './step-types.ts';
import { roundTrip } from './stored-values.ts';
import { serializeError, StepInterruptedError, StepNotRegisteredError, StepTimeoutError } from './errors.ts';
import type { Clock, EffectRecord, InstanceStore } from './ports.ts';
import type { Registry } from './registry.ts';
import { ATTR, SPAN, inSpan, storedContext } from './telemetry.ts';
import type { RuntimeObserver, StepAttemptInfo } from './observer.ts';
import type { ApplyFn } from './transition.ts';

/** What the runner needs to know about the instance that invoked a step. */
export interface StepOwner {
  readonly tenant: string;
  readonly machineId: string;
  readonly machine: AnyStateMachine;
  readonly traceContext: Record<string, string> | null;
  /** Invoked from a state that undoes earlier work (tag `rolling_back`): traced and counted as a compensation. */
  readonly compensation: boolean;
}

interface Running {
  controller: AbortController;
  instanceId: string;
  name: string;
  cancelTimer?: () => void;
}

/**
 * Runs step effects: one attempt at a time, with the per-attempt timeout, the
 * retry policy and the result sent back as `xstate.done.actor.<id>` or
 * `xstate.error.actor.<id>` through the instance's commit path.
 *
 * @remarks The durable-step contract: the effect row was committed before the
 * first attempt; every attempt gets the same idempotency key (the row id); a
 * result only counts if the commit that closes the row succeeds, so a re-run
 * after a crash can never complete the step twice.
 */
export class StepRunner {
  private readonly running = new Map<string, Running>();
  private stopping = false;

  constructor(
    private readonly o: {
      store: InstanceStore;
      registry: Registry;
      clock: Clock;
      /** Lease length of a step waiting for its retry (renewed by the heartbeat while this process holds it). */
      leaseMs: number;
      /** The engine's input: a step's result is applied as `xstate.done.actor.<id>` / `xstate.error.actor.<id>`. */
      apply: ApplyFn;
      track: <T>(p: Promise<T>) => Promise<T>;
      onError: (e: unknown) => void;
      observer: Required<RuntimeObserver>;
    },
  ) {}

  /**
   * Starts (or, after a crash, resumes) a step: its next call is number `effect.attempts + 1`
   * (`attempts` counts the calls started, an interrupted one included).
   */
  start(effect: EffectRecord, owner: StepOwner, fresh = false): void {
    if (this.running.has(effect.id)) return;
    if (this.stopping) return void (fresh && this.release(effect));
    // A step its commit has just opened has its first call on record already (effect-plan.ts).
    const recorded = fresh && effect.attempts > 0;
    void this.o.track(this.attempt(effect, recorded ? effect.attempts : effect.attempts + 1, owner, recorded)).catch(this.o.onError);
  }

  /** Takes back the first call a commit recorded for a step that will not be started here (the runtime stops). */
  release(effect: EffectRecord): void {
    if (effect.attempts < 1) return;
    void this.o.track(this.o.store.releaseAttempt(effect.id, effect.attempts, this.o.clock.now())).catch(this.o.onError);
  }

  /**
   * Aborts the in-process attempt (or pending retry) of a step whose invoking state was left
   * (every step of the instance without `name`).
   */
  cancel(instanceId: string, name?: string): void {
    for (const [id, r] of this.running) {
      if (r.instanceId === instanceId && (name === undefined || r.name === name)) {
        r.cancelTimer?.();
        r.controller.abort(new Error('step cancelled: its invoking state was left'));
        this.running.delete(id);
      }
    }
  }

  /** Adds the steps running or waiting for a retry here to `into` (the heartbeat renews their leases). */
  held(into: Map<string, object>): void {
    for (const [id, r] of this.running) into.set(id, r);
  }

  /**
   * Drops the attempts (or pending retries) of steps another process took over while this one stalled past
   * their lease: the attempt is aborted and its result never offered for commit.
   */
  drop(lost: Map<string, object>): string[] {
    const dropped: string[] = [];
    for (const [id, entry] of lost) {
      const r = this.running.get(id);
      if (r !== entry || !r) continue;
      r.cancelTimer?.();
      r.controller.abort(new Error('step lease lost: another process took the step over'));
      this.running.delete(id);
      dropped.push(id);
    }
    return dropped;
  }

  /** Aborts everything; interrupted steps stay open and are re-run after restart with the same key. */
  stop(): void {
    this.stopping = true;
    for (const r of this.running.values()) {
      r.cancelTimer?.();
      r.controller.abort(new Error('runtime stopping'));
    }
    this.running.clear();
  }

  get activeCount(): number {
    return this.running.size;
  }

  private async attempt(effect: EffectRecord, attempt: number, owner: StepOwner, recorded = false): Promise<void> {
    const src = effect.target ?? effect.name;
    const impl = this.o.registry.step(src);
    const policy = this.o.registry.policyFor(owner.machine, src);
    // Every call the policy allows was started, the last one cut short (a crash): calling again would exceed it.
    if (attempt > policy.maxAttempts) {
      const made = attempt - 1;
      return this.fail(effect, new StepInterruptedError(src, made, effect.instanceId), made, false);
    }
    const controller = new AbortController();
    const entry: Running = { controller, instanceId: effect.instanceId, name: effect.name };
    this.running.set(effect.id, entry);
    if (impl && !recorded) {
      // The attempt is on record before the call is made (see InstanceStore.recordAttempt).
      const open = await this.o.store.recordAttempt(effect.id, attempt, this.o.clock.now()).catch((e) => {
        if (this.running.get(effect.id) === entry) this.running.delete(effect.id);
        throw e;
      });
      if (this.running.get(effect.id) !== entry) return;
      if (!open) return void this.running.delete(effect.id);
    }
    const attrs = { [ATTR.instanceId]: effect.instanceId, [ATTR.stepName]: src, [ATTR.idempotencyKey]: effect.id, [ATTR.attempt]: attempt };
    const t0 = performance.now();
    const spanName = owner.compensation ? SPAN.compensation : SPAN.step;
    const outcome = await inSpan(spanName, storedContext(owner.traceContext), attrs, async (span) => {
      const stopTimeout = this.o.clock.schedule(policy.timeoutMs, () =>
        controller.abort(new StepTimeoutError(src, policy.timeoutMs, attempt, effect.instanceId)),
      );
      try {
        if (!impl) throw StepNotRegisteredError.missing(src, effect.instanceId);
        const ctx: StepContext = {
          idempotencyKey: effect.id,
          attempt,
          signal: controller.signal,
          instanceId: effect.instanceId,
          tenant: owner.tenant,
          now: () => this.o.clock.now(),
        };
        const output = await raceAbort(impl.run(effect.input, ctx), controller.signal);
        span.setAttribute(ATTR.outcome, 'done');
        // Results are stored as JSON: normalise now so memory and a restored snapshot agree. `undefined` stays
        // `undefined` in the event, as `fromPromise` delivers it (the effect row stores null: JSON has no undefined).
        return { ok: true as const, output: output === undefined ? undefined : JSON.parse(JSON.stringify(output)) };
      } catch (error) {
        span.setAttribute(
          ATTR.outcome,
          controller.signal.aborted && !(controller.signal.reason instanceof StepTimeoutError) ? 'aborted' : 'failed',
        );
        return { ok: false as const, error };
      } finally {
        stopTimeout();
      }
    });
    // Cancelled (state left) or runtime stopping: the row says what happens next, not this attempt.
    const seen = { instanceId: effect.instanceId, machineId: owner.machineId, step: src, invokeId: effect.name, attempt };
    const report = (o: Pick<StepAttemptInfo, 'outcome' | 'error' | 'next' | 'retryDelayMs'>) =>
      this.o.observer.stepAttempt({ ...seen, ...o, durationMs: performance.now() - t0, compensation: owner.compensation });
    if (this.running.get(effect.id) !== entry) return report({ outcome: 'aborted' });
    if (controller.signal.aborted && !(controller.signal.reason instanceof StepTimeoutError)) {
      report({ outcome: 'aborted' });
      return void this.running.delete(effect.id);
    }

    if (outcome.ok) {
      report({ outcome: 'done' });
      this.running.delete(effect.id);
      const done = { type: `xstate.done.actor.${effect.name}`, output: outcome.output, actorId: effect.name };
      await this.o.apply(effect.instanceId, done, {
        source: 'step',
        closeEffect: { id: effect.id, kind: 'step', status: 'done', result: outcome.output ?? null },
      });
      return;
    }
    const error = serializeError(outcome.error);
    const failure = { outcome: 'failed' as const, error: { name: String(error.name ?? 'Error'), message: String(error.message ?? '') } };
    const permanent = !impl || outcome.error instanceof StepNotRegisteredError || (impl.isPermanent ?? defaultIsPermanent)(outcome.error);
    if (permanent || attempt >= policy.maxAttempts || this.stopping) {
      report({ ...failure, next: 'fail' });
      if (this.stopping) return void this.running.delete(effect.id);
      this.running.delete(effect.id);
      // Known not to have applied only when no call was made, or the only call was rejected for good; any
      // earlier attempt failed transiently (a timeout, a lost response), so it may have applied.
      return this.fail(effect, outcome.error, impl ? attempt : 0, !impl || (permanent && attempt === 1));
    }
    const delay = backoff(policy, attempt, Math.random());
    report({ ...failure, next: 'retry', retryDelayMs: delay });
    const dueAt = new Date(this.o.clock.now().getTime() + delay);
    // The due time is stored with the row: after a restart the next call waits for it too (claims are due-ordered).
    await this.o.store.scheduleRetry(
      effect.id,
      attempt,
      dueAt,
      new Date(this.o.clock.now().getTime() + this.o.leaseMs),
      { ...error, attempt },
      this.o.clock.now(),
    );
    if (this.running.get(effect.id) !== entry) return;
    entry.cancelTimer = this.o.clock.schedule(delay, () => {
      if (this.running.get(effect.id) !== entry) return;
      this.running.delete(effect.id);
      void this.o.track(this.attempt(effect, attempt + 1, owner)).catch(this.o.onError);
    });
  }

  /**
   * Delivers a step's final failure: `xstate.error.actor.<id>` with what the step rejected with (through the
   * codec, as a restart would read it, exactly as `fromPromise` delivers it), and beside it the idempotency key,
   * the calls made and whether one may have applied; the effect row is closed with the same facts.
   */
  private async fail(effect: EffectRecord, rejection: unknown, attempts: number, known: boolean): Promise<void> {
    const stepOutcome: StepOutcome = { idempotencyKey: effect.id, attempts, outcome: known ? 'not_applied' : 'unknown' };
    const failed = {
      type: `xstate.error.actor.${effect.name}`,
      error: roundTrip(rejection),
      actorId: effect.name,
      [STEP_OUTCOME_FIELD]: stepOutcome,
    };
    const error = { ...serializeError(rejection), attempts, outcome: stepOutcome.outcome };
    await this.o.apply(effect.instanceId, failed, {
      source: 'step',
      closeEffect: { id: effect.id, kind: 'step', status: 'failed', error },
    });
  }
}

/** Delay before attempt `attempt + 1`: exponential, capped, with jitter taken off the top. */
export function backoff(
  policy: { initialDelayMs: number; backoffFactor: number; maxDelayMs: number; jitter: number },
  attempt: number,
  random: number,
): number {
  const raw = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.backoffFactor ** (attempt - 1));
  return Math.round(raw * (1 - policy.jitter * random));
}

function defaultIsPermanent(error: unknown): boolean {
  return !!error && typeof error === 'object' && (error as { retryable?: unknown }).retryable === false;
}

function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => (signal.removeEventListener('abort', onAbort), resolve(v)),
      (e) => (signal.removeEventListener('abort', onAbort), reject(e)),
    );
  });
}
