import type { Clock } from '../ports.ts';
import { publicId } from '../instance-ids.ts';
import type { DeliveryInfo } from '../observer.ts';
import { backoffMs, type DeliveryPolicy } from './delivery-policy.ts';
import type { AttemptOutcome, ClaimedDelivery, OutboxStore } from './outbox-ports.ts';
import type { WebhookSender } from './webhook-sender.ts';

/** What an in-process handler receives: one outbox row. */
export interface OutboxMessage {
  /** Delivery id (`<outbox id>-<subscription id>`), the same on every attempt: deduplicate by it. */
  id: string;
  outboxId: number;
  /** The emitted event's type. */
  type: string;
  /** The instance's public id (as its tenant names it). */
  instanceId: string;
  tenant: string;
  /** Instance version whose commit emitted it. */
  seq: number;
  emittedAt: Date;
  /** The emitted event. */
  payload: unknown;
}

/** Context of one handler call. */
export interface OutboxHandlerContext {
  /** Aborted at the attempt's time limit or when the runtime stops. */
  signal: AbortSignal;
  /** 1 for the first attempt. */
  attempt: number;
}

/** An in-process subscriber: resolves when the message is handled; a throw or rejection is a failed attempt. */
export type OutboxHandler = (message: OutboxMessage, ctx: OutboxHandlerContext) => Promise<void> | void;

/** Options of {@link OutboxDispatcher}. */
export interface OutboxDispatcherOptions {
  readonly store: OutboxStore;
  readonly clock: Clock;
  readonly owner: string;
  readonly policy: DeliveryPolicy;
  /** How often due deliveries are claimed besides wake-ups (0: only on wake-ups). */
  readonly pollIntervalMs: number;
  /** Deliveries in flight at once in this process. */
  readonly concurrency: number;
  readonly sender: WebhookSender;
  /** Handlers registered in this process, by subscription id. */
  readonly handlers: ReadonlyMap<string, OutboxHandler>;
  /** Keeps a promise in the set `runtime.settled()` waits for. */
  readonly track: <T>(p: Promise<T>) => Promise<T>;
  readonly random: () => number;
  readonly onError: (e: unknown) => void;
  readonly observe: (d: DeliveryInfo) => void;
}

/** The JSON body of a webhook request (Standard Webhooks' `type`, `timestamp`, `data`, plus where it came from). */
export function webhookBody(m: OutboxMessage): string {
  return JSON.stringify({
    type: m.type,
    timestamp: m.emittedAt.toISOString(),
    data: m.payload,
    instanceId: m.instanceId,
    tenant: m.tenant,
    seq: m.seq,
    outboxId: m.outboxId,
  });
}

/**
 * Delivers outbox rows: claims due deliveries (leased, `FOR UPDATE SKIP LOCKED` on Postgres), sends each to
 * its webhook or handler, records the outcome under the lease, and retries with back-off until the policy's
 * attempts run out (dead letter). Woken by commits that emitted, by finished deliveries (the next row of the
 * same instance may now go) and by retries coming due; the poll covers other processes' rows and lost leases.
 *
 * @remarks At least once: a crash after the receiver got a request and before the outcome was recorded leaves
 * the delivery pending; once its lease lapses any process sends it again, with the same `webhook-id`.
 */
export class OutboxDispatcher {
  private readonly inflight = new Map<string, AbortController>();
  private readonly timers = new Set<() => void>();
  private stopPoll?: () => void;
  private stopWake?: () => void;
  private running = false;
  private again = false;
  private stopped = false;

  constructor(private readonly o: OutboxDispatcherOptions) {}

  /** Start-up: leases of a predecessor with our owner id are ours to take back; then the first round. */
  async start(): Promise<void> {
    await this.o.store.releaseDeliveryLeases(this.o.owner);
    this.wake();
  }

  /** Runs a claim round soon (coalescing wake-ups that arrive together). */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.stopWake ??= this.o.clock.schedule(0, () => {
      this.stopWake = undefined;
      void this.o.track(this.round());
    });
  }

  /** Stops claiming, aborts requests and handler calls in flight (they stay pending, to be made again). */
  stop(): void {
    this.stopped = true;
    this.stopPoll?.();
    this.stopWake?.();
    for (const cancel of this.timers) cancel();
    for (const c of this.inflight.values()) c.abort(new Error('the runtime is stopping'));
  }

  private async round(): Promise<void> {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    this.stopPoll?.();
    this.stopPoll = undefined;
    try {
      const room = this.o.concurrency - this.inflight.size;
      if (room > 0) {
        const now = this.o.clock.now();
        // A request never outlives its time limit (it is aborted then): the margin covers recording the outcome.
        const leaseUntil = new Date(now.getTime() + this.o.policy.timeoutMs + 5000);
        const claimed = await this.o.store.claimDeliveries(this.o.owner, [...this.o.handlers.keys()], now, leaseUntil, room);
        // Claimed while stopping: not started; close() releases their leases.
        for (const d of claimed) if (!this.stopped) this.start1(d);
        // A full batch: there may be more due right now.
        if (claimed.length === room) this.again = true;
      }
    } catch (e) {
      this.o.onError(e);
    } finally {
      this.running = false;
      if (!this.stopped && this.o.pollIntervalMs > 0) this.stopPoll = this.o.clock.schedule(this.o.pollIntervalMs, () => this.wake());
      if (this.again) {
        this.again = false;
        this.wake();
      }
    }
  }

  private start1(d: ClaimedDelivery): void {
    const abort = new AbortController();
    this.inflight.set(d.id, abort);
    void this.o.track(
      this.deliver(d, abort.signal)
        .catch((e) => this.o.onError(e))
        .finally(() => {
          this.inflight.delete(d.id);
          // The next row of the same (subscription, instance) may be claimable now.
          this.wake();
        }),
    );
  }

  private async deliver(d: ClaimedDelivery, signal: AbortSignal): Promise<void> {
    const message: OutboxMessage = {
      id: d.id,
      outboxId: d.outboxId,
      type: d.eventType,
      instanceId: publicId(d.tenant, d.instanceId),
      tenant: d.tenant,
      seq: d.seq,
      emittedAt: d.emittedAt,
      payload: d.payload,
    };
    const attempt = d.attempts + 1;
    const t0 = performance.now();
    const result = await this.attempt(d, message, attempt, signal);
    // Stopping: the outcome is unknown to us; the delivery stays pending and its lease is released by close().
    if (this.stopped) return;
    const now = this.o.clock.now();
    let outcome: AttemptOutcome;
    if (result.ok) outcome = { status: 'delivered', httpStatus: result.status };
    else if (attempt >= this.o.policy.maxAttempts)
      outcome = { status: 'dead', error: result.error, httpStatus: result.status, nextAttemptAt: null };
    else {
      const nextAttemptAt = new Date(now.getTime() + backoffMs(this.o.policy, attempt, this.o.random));
      outcome = { status: 'pending', error: result.error, httpStatus: result.status, nextAttemptAt };
    }
    const recorded = await this.o.store.recordAttempt(d.id, this.o.owner, outcome, now);
    if (!recorded) return;
    this.o.observe({
      deliveryId: d.id,
      subscriptionKind: d.subscription.kind,
      outcome: outcome.status === 'delivered' ? 'delivered' : outcome.status === 'dead' ? 'dead' : 'failed',
      attempt,
      durationMs: performance.now() - t0,
      lagMs: now.getTime() - d.emittedAt.getTime(),
      error: result.ok ? undefined : result.error,
    });
    if (outcome.status === 'pending') this.wakeAt(outcome.nextAttemptAt!.getTime() - now.getTime());
  }

  private async attempt(
    d: ClaimedDelivery,
    message: OutboxMessage,
    attempt: number,
    stop: AbortSignal,
  ): Promise<{ ok: true; status: number | null } | { ok: false; status: number | null; error: string }> {
    const { timeoutMs } = this.o.policy;
    const s = d.subscription;
    if (s.kind === 'webhook') {
      if (typeof s.secret !== 'string' || !s.url)
        return { ok: false, status: null, error: 'the subscription has no URL or readable secret' };
      const body = webhookBody(message);
      // Wall time, also in simulation mode: receivers check webhook-timestamp against their own clock (replays).
      return this.o.sender({ url: s.url, secret: s.secret, id: d.id, body, timeoutMs, signal: stop, now: new Date() });
    }
    const handler = this.o.handlers.get(s.id);
    if (!handler) return { ok: false, status: null, error: `no handler "${s.id}" is subscribed in this process` };
    const signal = AbortSignal.any([stop, AbortSignal.timeout(timeoutMs)]);
    try {
      await Promise.race([
        handler(message, { signal, attempt }),
        new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true })),
      ]);
      return { ok: true, status: null };
    } catch (e) {
      const err = e as Error;
      const text =
        err?.name === 'TimeoutError'
          ? `the handler took longer than ${timeoutMs} ms`
          : `${err?.name ?? 'Error'}: ${err?.message ?? String(e)}`;
      return { ok: false, status: null, error: text.slice(0, 300) };
    }
  }

  /** A wake-up when a retry comes due (the poll would find it too, later). */
  private wakeAt(ms: number): void {
    // The poll comes sooner anyway: no timer per failing delivery.
    if (this.stopped || (this.o.pollIntervalMs > 0 && ms >= this.o.pollIntervalMs)) return;
    const cancel = this.o.clock.schedule(Math.max(0, ms), () => {
      this.timers.delete(cancel);
      this.wake();
    });
    this.timers.add(cancel);
  }
}
