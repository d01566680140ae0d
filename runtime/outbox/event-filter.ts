/**
 * Event type filters of subscriptions: `*` (every type), an exact type
 * (`order.shipped`), or a prefix ending in `.*` (`order.*` matches
 * `order.shipped` and `order.item.added`, not `order` itself). The same rule
 * runs in the commit statement (`commit-sql.ts`) and in the memory store.
 */

/** One pattern: `*`, or dotted segments of letters, digits, `_`, `-`, `:` with an optional final `.*`. */
export const EVENT_PATTERN_RE = /^(\*|[A-Za-z0-9_:-]+(\.[A-Za-z0-9_:-]+)*(\.\*)?)$/;

/** Most patterns one subscription may hold, and longest pattern. */
export const MAX_EVENT_PATTERNS = 50;
export const MAX_EVENT_PATTERN_LENGTH = 200;

/** Whether an event type matches one pattern. */
export function matchesPattern(pattern: string, type: string): boolean {
  if (pattern === '*' || pattern === type) return true;
  return pattern.endsWith('.*') && type.startsWith(pattern.slice(0, -1));
}

/** Whether an event type matches any of the patterns. */
export function matchesAny(patterns: readonly string[], type: string): boolean {
  return patterns.some((p) => matchesPattern(p, type));
}

/** The problem with a pattern list, or undefined when it is valid. */
export function patternProblem(patterns: readonly unknown[]): string | undefined {
  if (patterns.length === 0) return 'give at least one event type pattern ("*" for every type)';
  if (patterns.length > MAX_EVENT_PATTERNS) return `at most ${MAX_EVENT_PATTERNS} event type patterns`;
  for (const p of patterns) {
    if (typeof p !== 'string' || p.length > MAX_EVENT_PATTERN_LENGTH || !EVENT_PATTERN_RE.test(p))
      return `"${String(p).slice(0, 50)}" is not an event type pattern: "*", a type like "order.shipped" or a prefix like "order.*"`;
  }
  return undefined;
}
