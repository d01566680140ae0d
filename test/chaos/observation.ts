/**
 * What a chaos run saw: the clients' ledger of acknowledged requests, the
 * database's instances and history, the lab's live records, and the server's
 * answers and down times. The checker judges only this, so planted anomalies
 * can prove it sees each kind.
 */
import type { LiveRecord } from '../../lab/live-record.ts';

/** A start the server acknowledged (2xx) to a client. */
export interface AckedStart {
  machine: string;
  key: string;
  instanceId: string;
}

/** An event (or cancel) the server acknowledged (2xx) to a client. */
export interface AckedEvent {
  instanceId: string;
  key: string;
  type: string;
  /** A cancel: answered 2xx even when the state no longer takes it (nothing recorded), so it can only be applied twice, not lost. */
  mayBeNoop?: boolean;
}

/** One instance as the database and the API describe it at the end. */
export interface InstanceView {
  id: string;
  machine: string;
  parentId: string | null;
  idempotencyKey: string | null;
  /** `sk_instance.status`: active, done, error, stopped. */
  status: string;
  /** The API's workflow status (completed, rolled_back, running, …). */
  workflowStatus: string;
  /** History sequence numbers, in order. */
  seqs: number[];
  /** How many history rows carry each idempotency key. */
  eventKeys: Record<string, number>;
  /** Every id-like value in its context and step results (what it points at in the lab). */
  refs: string[];
}

/** A 5xx answer a client received. */
export interface ServerError {
  at: number;
  status: number;
  what: string;
}

/** Everything the checker judges. */
export interface Observation {
  starts: AckedStart[];
  events: AckedEvent[];
  instances: InstanceView[];
  /** The lab's live records (what undo steps would have to remove), with each record's natural key where it has one. */
  lab: (LiveRecord & { natural?: string })[];
  serverErrors: ServerError[];
  /** Times the server was meant to be away (killed, restarting, database restarting), `[from, to]` in ms. */
  downWindows: [number, number][];
  /** Server exits the run did not cause. */
  crashes: string[];
}
