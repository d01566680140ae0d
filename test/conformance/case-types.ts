import type { AnyEventObject, AnyStateMachine } from 'xstate';

/** One move of a walk: deliver an event, or let simulated time pass. */
export type WalkMove = { send: AnyEventObject } | { wait: number };

/**
 * A machine that must behave in the runtime exactly as in `createActor`,
 * written from the XState v5 documentation of one feature.
 */
export interface IdenticalCase {
  /** Unique, `area.feature` (a README "XState features" row names it). */
  readonly name: string;
  readonly machine: AnyStateMachine;
  readonly input?: unknown;
  /** Events a random walk draws from (unhandled ones must be no-ops on both sides). */
  readonly events: readonly AnyEventObject[];
  /** Simulated-time moves a walk draws from, in ms (none: the machine has no delays). */
  readonly waits?: readonly number[];
  /** Extra walks that must be run as given (beyond random and graph ones). */
  readonly walks?: readonly (readonly WalkMove[])[];
  /** Skip `xstate/graph` paths (machines whose state space is unbounded, or that spawn work). */
  readonly noGraph?: boolean;
}

/** A machine the runtime must refuse at registration, naming the feature. */
export interface RefusedCase {
  readonly name: string;
  readonly machine: AnyStateMachine;
  /** Words the `unsupported_machine` message must contain (feature, state path). */
  readonly mentions: readonly string[];
}
