import type { EventSource } from './ports.ts';

/** Who sends an event: recorded in history, checked against the roles machines declare. */
export interface Caller {
  readonly id: string;
  readonly roles?: readonly string[];
}

/** Options of `runtime.start`. */
export interface StartOptions {
  /** `id` (newest registered version) or `id@version`. */
  readonly machine: string;
  readonly input?: unknown;
  /** Defaults to a random UUID. */
  readonly instanceId?: string;
  /** The same key (per tenant) returns the same instance instead of starting a second one. */
  readonly idempotencyKey?: string;
  /** Defaults to `default`. */
  readonly tenant?: string;
  readonly caller?: Caller;
}

/** Options of `runtime.send`. */
export interface SendOptions {
  /** When set, an instance of another tenant is reported as not found. */
  readonly tenant?: string;
  readonly caller?: Caller;
  /** The same key on the same instance applies the event once. */
  readonly idempotencyKey?: string;
  /** Recorded in history; `api` by default. */
  readonly source?: 'api' | 'operator' | 'system';
}

/** What an instance looks like from outside. */
export interface InstanceView {
  id: string;
  tenant: string;
  machine: { id: string; version: string };
  status: 'active' | 'done' | 'error' | 'stopped';
  value: unknown;
  context: unknown;
  tags: string[];
  output: unknown;
  error: unknown;
  version: number;
  parentId: string | null;
  /** Paused by an operator (see `runtime.pause`): nothing of it is dispatched until it is resumed. */
  paused: boolean;
  /** The instance an operator restarted as this one (see `runtime.restartInstance`). */
  restartOf: string | null;
  /** The instance and history entry an operator forked this one from (see `runtime.forkInstance`). */
  forkOf: { id: string; seq: number } | null;
  createdAt: Date;
  updatedAt: Date;
}

/** Result of `runtime.send`, after the commit. */
export interface SendResult {
  instanceId: string;
  /** False when the current state has no transition for the event; nothing was stored. */
  handled: boolean;
  /** True when an event with the same idempotency key had already been applied. */
  duplicate: boolean;
  value: unknown;
  status: InstanceView['status'];
  tags: string[];
  version: number;
}

/** Result of `runtime.start`. */
export interface StartResult extends InstanceView {
  /** False when the idempotency key (or instance id) named an existing instance. */
  created: boolean;
}

/**
 * A change committed by another process, as the database announced it: which
 * instance, its new version and status (read the instance for the rest).
 */
export interface RemoteChange {
  instanceId: string;
  tenant: string;
  version: number;
  status: InstanceView['status'];
}

/** A change notification, after the commit. */
export interface InstanceChange {
  instanceId: string;
  tenant: string;
  version: number;
  value: unknown;
  status: InstanceView['status'];
  tags: string[];
  eventType: string;
  /** Where the event came from (absent for a start). */
  source?: EventSource;
  /** Admit, decide and commit of the event, in milliseconds (absent for a start). */
  durationMs?: number;
  /** Outbox rows (emitted events) the commit wrote, when there were any. */
  emitted?: number;
}
