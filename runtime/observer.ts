import type { EventSource, InstanceStatus } from './ports.ts';

/**
 * The runtime's observation port: what happened, as plain data, for metrics
 * and logs. The runtime calls it; the composition root supplies the sinks
 * (`observability/metrics.ts` for Prometheus, `observability/logger.ts` for
 * pino), so `runtime/` depends on no SDK.
 *
 * @remarks Observers run on the hot path, inside the span of what they report
 * (so a log line carries its trace id): they must be cheap and must not throw
 * (a throwing observer is caught and ignored, see {@link safeObserver}).
 */
export interface RuntimeObserver {
  /** An instance was created (`before` is null) or an event was committed to it. */
  transition?(t: TransitionInfo): void;
  /** One step attempt ended. */
  stepAttempt?(s: StepAttemptInfo): void;
  /** A durable timer fired: `lagMs` from its due time to its delivery. */
  timerFired?(t: TimerInfo): void;
  /** The poller claimed effects (start-up recovery, timers beyond the in-memory horizon, orphans). */
  claimed?(c: ClaimInfo): void;
  /** One group-commit statement finished (reported by the store adapter). */
  commitBatch?(b: CommitBatchInfo): void;
  /** One outbox delivery attempt was recorded (see `outbox/`). */
  delivery?(d: DeliveryInfo): void;
  /** The heartbeat found effects this process worked on taken over by another (this one stalled past their lease). */
  leaseLost?(l: LeaseLostInfo): void;
  /** A retention batch deleted or archived finished instances and their rows. */
  retention?(r: RetentionInfo): void;
}

/** Effects whose lease this process lost; their attempts here were dropped. */
export interface LeaseLostInfo {
  owner: string;
  effectIds: string[];
}

/** The side of a transition the observers see. */
export interface StateInfo {
  value: unknown;
  tags: readonly string[];
  status: InstanceStatus;
}

/** One committed transition. */
export interface TransitionInfo {
  instanceId: string;
  tenant: string;
  /** Machine id (without version). */
  machineId: string;
  machineVersion: string;
  parentId: string | null;
  event: { type: string } & Record<string, unknown>;
  /** Where the event came from, when known. */
  source?: EventSource;
  /** Null for the creation of the instance. */
  before: StateInfo | null;
  /** `error` is the stored error of an instance that ended in error (with a `code` when the runtime ended it). */
  after: StateInfo & { context: unknown; output: unknown; error?: unknown };
  handled: boolean;
  /** Decide plus commit, in milliseconds, when measured. */
  durationMs?: number;
}

/** One ended step attempt. */
export interface StepAttemptInfo {
  instanceId: string;
  machineId: string;
  /** Implementation name (the invoked actor's `src`). */
  step: string;
  /** Invoke id in the machine. */
  invokeId: string;
  attempt: number;
  outcome: 'done' | 'failed' | 'aborted';
  durationMs: number;
  /** Invoked from a state tagged `rolling_back` (an undo). */
  compensation: boolean;
  error?: { name: string; message: string };
  /** What follows a failed attempt: another attempt after `retryDelayMs`, or the failure goes to the chart. */
  next?: 'retry' | 'fail';
  retryDelayMs?: number;
}

/** A timer delivery. */
export interface TimerInfo {
  instanceId: string;
  name: string;
  lagMs: number;
}

/** Effects the poller claimed, by kind; `takeovers` were leased by a process that stopped holding them. */
export interface ClaimInfo {
  owner: string;
  effects: { id: string; instanceId: string; kind: string; name: string; takeover: boolean }[];
}

/** One group-commit statement. */
export interface CommitBatchInfo {
  kind: 'create' | 'commit';
  size: number;
  durationMs: number;
  ok: boolean;
}

/** One recorded outbox delivery attempt. */
export interface DeliveryInfo {
  deliveryId: string;
  subscriptionKind: 'webhook' | 'handler';
  /** `failed`: another attempt follows after a back-off; `dead`: the attempts ran out. */
  outcome: 'delivered' | 'failed' | 'dead';
  attempt: number;
  durationMs: number;
  /** From the commit that emitted the row to this attempt's end. */
  lagMs: number;
  error?: string;
}

/** One batch of retention that removed rows (a dry run reports nothing). */
export interface RetentionInfo {
  mode: 'delete' | 'archive';
  /** The tenant the run was limited to, or null for all. */
  tenant: string | null;
  counts: { instances: number; events: number; effects: number; outbox: number; tasks: number; checkpoints: number };
}

/** Calls every observer; an observer that throws is ignored (observation never breaks the runtime). */
export function combineObservers(...observers: (RuntimeObserver | undefined)[]): Required<RuntimeObserver> {
  const list = observers.filter((o): o is RuntimeObserver => o !== undefined);
  const each =
    <K extends keyof RuntimeObserver>(key: K) =>
    (arg: Parameters<Required<RuntimeObserver>[K]>[0]) => {
      for (const o of list) {
        try {
          (o[key] as ((a: typeof arg) => void) | undefined)?.(arg);
        } catch {
          // Observation must not change what the runtime does.
        }
      }
    };
  return {
    transition: each('transition'),
    stepAttempt: each('stepAttempt'),
    timerFired: each('timerFired'),
    claimed: each('claimed'),
    commitBatch: each('commitBatch'),
    delivery: each('delivery'),
    leaseLost: each('leaseLost'),
    retention: each('retention'),
  };
}

/** Wraps one observer so it can be called unguarded. */
export function safeObserver(o: RuntimeObserver | undefined): Required<RuntimeObserver> {
  return combineObservers(o);
}

/** Tag of states that undo earlier work (sagas' compensation states carry it). */
export const ROLLING_BACK_TAG = 'rolling_back';
/** Tag of states that wait for an operator after an undo failed. */
export const COMPENSATION_FAILED_TAG = 'compensation_failed';
