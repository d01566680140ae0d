/**
 * The events the runtime's operator commands send. A machine that handles
 * them decides what cancelling or retrying means (the saga library does); one
 * that does not is stopped by `cancel` and left as it is by `retry`. A machine
 * with its own names maps them at registration (`RegisterOptions.operatorEvents`).
 */
export interface OperatorEvents {
  /** Sent by `cancel` (with `reason` when given) when the current state accepts it. */
  readonly cancel: string;
  /** Sent by `retry` when the current state accepts it. */
  readonly retry: string;
}

/** The names used unless a registration maps others. */
export const OPERATOR_EVENTS: OperatorEvents = { cancel: 'workflow.cancel', retry: 'operator.retry' };

/** True when any state of the machine has a transition for `type`. */
export function declaresEvent(node: { transitions: Map<string, unknown>; states: Record<string, unknown> }, type: string): boolean {
  if (node.transitions.has(type)) return true;
  return Object.values(node.states).some((child) => declaresEvent(child as typeof node, type));
}
