/**
 * The one serialisation rule of the runtime: what a transition stores
 * (context, output, the events it records or schedules) must come back from
 * PostgreSQL's `jsonb` exactly as it went in. Checked on every commit, in
 * simulation mode as in production, so a value that would change on a restart
 * is refused at once with its path instead of diverging later.
 *
 * Storable: `null`, booleans, finite numbers, strings without NUL characters
 * or lone surrogates, arrays of storable values, and plain objects (prototype
 * `Object.prototype` or `null`) whose values are storable. An object property
 * holding `undefined` is allowed and dropped (it reads back as `undefined`).
 * Not storable: `Date` (store `toISOString()`), `Map`, `Set`, class
 * instances, functions, actor references, `undefined` in arrays, `NaN`,
 * `Infinity`, `bigint`, symbols, cycles, nesting deeper than {@link MAX_DEPTH}.
 */

/** Deepest nesting a stored value may have. */
export const MAX_DEPTH = 200;

/**
 * Path and reason of the first value under `value` that does not survive
 * storage, or undefined when all of it does.
 * @param path where `value` sits, for the message (e.g. `context`).
 */
export function unstorable(value: unknown, path: string): { path: string; reason: string } | undefined {
  return walk(value, path, 0, new Set());
}

function walk(v: unknown, path: string, depth: number, seen: Set<object>): { path: string; reason: string } | undefined {
  switch (typeof v) {
    case 'string':
      return badString(v) ? { path, reason: `a string with ${badString(v)}` } : undefined;
    case 'boolean':
      return undefined;
    case 'number':
      return Number.isFinite(v) ? undefined : { path, reason: `${v} (not a finite number)` };
    case 'undefined':
      return { path, reason: 'undefined' };
    case 'object':
      break;
    default:
      return { path, reason: `a ${typeof v}` };
  }
  if (v === null) return undefined;
  if (depth >= MAX_DEPTH) return { path, reason: `nesting deeper than ${MAX_DEPTH} levels` };
  if (seen.has(v)) return { path, reason: 'a cycle' };
  if (Array.isArray(v)) {
    seen.add(v);
    for (let i = 0; i < v.length; i++) {
      const bad = walk(v[i], `${path}[${i}]`, depth + 1, seen);
      if (bad) return bad;
    }
    seen.delete(v);
    return undefined;
  }
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) {
    const kind = v instanceof Date ? 'a Date (store date.toISOString())' : `an instance of ${proto?.constructor?.name ?? 'a class'}`;
    return { path, reason: kind };
  }
  seen.add(v);
  for (const [k, item] of Object.entries(v)) {
    const badKey = badString(k);
    if (badKey) return { path: `${path}[${JSON.stringify(k)}]`, reason: `a key with ${badKey}` };
    if (item === undefined) continue;
    const bad = walk(item, /^[A-Za-z_$][\w$]*$/.test(k) ? `${path}.${k}` : `${path}[${JSON.stringify(k)}]`, depth + 1, seen);
    if (bad) return bad;
  }
  seen.delete(v);
  return undefined;
}

/** What makes a string (a value or a key) unstorable in Postgres text or jsonb, if anything. */
export function badString(s: string): string | undefined {
  if (s.includes('\u0000')) return 'a NUL character';
  // A lone surrogate: a high one not followed by a low one, or a low one not preceded by a high one.
  if (/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s)) return 'a lone surrogate';
  return undefined;
}

/** Earliest instant stored: Postgres has no year 0, and `pg` writes earlier years in a form it refuses. */
export const MIN_DATE_MS = Date.parse('0001-01-01T00:00:00Z');
/** Latest instant accepted from outside: the end of year 9999 (ISO 8601 without expanded years). */
export const MAX_DATE_MS = Date.parse('9999-12-31T23:59:59.999Z');

/** Whether a date lies in the range every store and the HTTP layer hold (years 1 to 9999). */
export function isStorableDate(date: Date): boolean {
  const t = date.getTime();
  return t >= MIN_DATE_MS && t <= MAX_DATE_MS;
}
