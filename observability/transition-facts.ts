import { COMPENSATION_FAILED_TAG, ROLLING_BACK_TAG, type TransitionInfo } from '../runtime/observer.ts';

/** What a committed transition means for metrics and logs. */
export interface TransitionFacts {
  started: boolean;
  /** Set when the instance left `active`: the saga outcome (`output.outcome`) or else the status. */
  finished?: string;
  /** The undo of one step came back: done, or failed after its retries. */
  compensation?: { invokeId: string; outcome: 'done' | 'failed' };
  /** The instance entered a state that waits for an operator after a failed undo. */
  compensationFailed: boolean;
  /** The instance began rolling back (entered its first `rolling_back` state). */
  rollingBack: boolean;
  /**
   * Set when the instance ended in error: the runtime's code (`transition_rate_exceeded`, `delay_too_short`,
   * `transition_failed`, …) or `machine` for an error the machine itself raised.
   */
  errorCode?: string;
}

const DONE = 'xstate.done.actor.';
const ERROR = 'xstate.error.actor.';

/**
 * Reads a transition: start, finish, compensations. Compensation is told by
 * the tags the runtime's workflow status also reads (`rolling_back`,
 * `compensation_failed`), so any machine that tags its undo states the way
 * `sagas/` does is counted, without the runtime knowing about sagas.
 */
export function factsOf(t: TransitionInfo): TransitionFacts {
  const before = t.before;
  const wasRollingBack = before?.tags.includes(ROLLING_BACK_TAG) ?? false;
  const type = t.event.type;
  let compensation: TransitionFacts['compensation'];
  if (wasRollingBack && t.handled && (type.startsWith(DONE) || type.startsWith(ERROR))) {
    compensation = type.startsWith(DONE)
      ? { invokeId: type.slice(DONE.length), outcome: 'done' }
      : { invokeId: type.slice(ERROR.length), outcome: 'failed' };
  }
  const finished =
    before?.status === 'active' && t.after.status !== 'active'
      ? outcomeOf(t)
      : before === null && t.after.status !== 'active'
        ? outcomeOf(t)
        : undefined;
  return {
    started: before === null,
    finished,
    compensation,
    compensationFailed: t.after.tags.includes(COMPENSATION_FAILED_TAG) && !(before?.tags.includes(COMPENSATION_FAILED_TAG) ?? false),
    rollingBack: t.after.tags.includes(ROLLING_BACK_TAG) && !wasRollingBack,
    errorCode: finished !== undefined && t.after.status === 'error' ? errorCodeOf(t.after.error) : undefined,
  };
}

function errorCodeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' && /^[a-z_]{1,40}$/.test(code) ? code : 'machine';
}

function outcomeOf(t: TransitionInfo): string {
  const out = t.after.output as { outcome?: unknown } | null | undefined;
  if (out && typeof out === 'object' && typeof out.outcome === 'string') return out.outcome;
  return t.after.status;
}
