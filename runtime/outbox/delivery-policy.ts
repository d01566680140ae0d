/** How deliveries are retried (runtime option `outbox`, server variables `STATEKEEPER_WEBHOOK_*`). */
export interface DeliveryPolicy {
  /** Attempts before a delivery is dead-lettered (default 8). */
  readonly maxAttempts: number;
  /** Back-off before the second attempt; it doubles for each further one (default 1 s). */
  readonly backoffMs: number;
  /** Longest back-off (default 1 h). */
  readonly maxBackoffMs: number;
  /** Time limit of one webhook request or handler call (default 10 s). */
  readonly timeoutMs: number;
}

export const DEFAULT_DELIVERY_POLICY: DeliveryPolicy = { maxAttempts: 8, backoffMs: 1000, maxBackoffMs: 3_600_000, timeoutMs: 10_000 };

/**
 * Delay before the attempt after `attempts` failed ones: exponential, capped, with "equal jitter" (half fixed,
 * half random), so the receivers of many rows that failed together are not hit again all at the same instant
 * and a delay never collapses to nothing.
 */
export function backoffMs(policy: DeliveryPolicy, attempts: number, random: () => number = Math.random): number {
  const exp = Math.min(policy.maxBackoffMs, policy.backoffMs * 2 ** Math.min(Math.max(attempts - 1, 0), 30));
  return Math.round(exp / 2 + (exp / 2) * random());
}

/** The problem with a policy, or undefined. */
export function policyProblem(p: DeliveryPolicy): string | undefined {
  if (!Number.isInteger(p.maxAttempts) || p.maxAttempts < 1 || p.maxAttempts > 1000) return 'maxAttempts must be an integer in 1..1000';
  for (const k of ['backoffMs', 'maxBackoffMs', 'timeoutMs'] as const)
    if (!Number.isFinite(p[k]) || p[k] < 1 || p[k] > 7 * 86_400_000) return `${k} must be a number of ms in 1..604800000`;
  return undefined;
}
