import { RuntimeError } from './errors.ts';
import { unstorable } from './storable.ts';

/**
 * The codec of stored contexts: `Date` and `Error` values in a machine's
 * context survive a restart as themselves (a guard calling `getTime()` or a
 * message built with `'' + error` behaves the same before and after), stored
 * as tagged objects: `{ "$$type": "Date", "value": iso }` and
 * `{ "$$type": "Error", "name", "message", "cause"?, "fields"? }` (its own
 * enumerable fields). Anything else must be plain JSON (see `storable.ts`).
 */

const TAG = '$$type';

/** `value` with Dates and Errors replaced by their tagged form; throws `unserializable_value` naming the path otherwise. */
export function encodeStored(value: unknown, path: string): unknown {
  const encoded = encode(value, path, 0);
  const bad = unstorable(encoded, path);
  if (bad) throw unserializable(bad.path, bad.reason);
  return encoded;
}

function encode(v: unknown, path: string, depth: number): unknown {
  if (v === null || typeof v !== 'object' || depth > 200) return v;
  if (v instanceof Date) {
    if (Number.isNaN(v.getTime())) throw unserializable(path, 'an invalid Date');
    return { [TAG]: 'Date', value: v.toISOString() };
  }
  if (v instanceof Error) {
    const fields = Object.fromEntries(Object.entries(v).map(([k, f]) => [k, encode(f, `${path}.${k}`, depth + 1)]));
    return {
      [TAG]: 'Error',
      name: v.name,
      message: v.message,
      ...(v.cause !== undefined ? { cause: encode(v.cause, `${path}.cause`, depth + 1) } : {}),
      ...(Object.keys(fields).length ? { fields } : {}),
    };
  }
  if (Array.isArray(v)) return v.map((item, i) => encode(item, `${path}[${i}]`, depth + 1));
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return v; // reported by the storable check
  if (TAG in v) throw unserializable(`${path}.${TAG}`, `a key reserved for stored Dates and Errors`);
  const out: Record<string, unknown> = {};
  for (const [k, item] of Object.entries(v)) out[k] = encode(item, `${path}.${k}`, depth + 1);
  return out;
}

/** The inverse of {@link encodeStored}: tagged objects become Dates and Errors again. */
export function decodeStored(v: unknown, depth = 0): unknown {
  if (v === null || typeof v !== 'object' || depth > 200) return v;
  if (Array.isArray(v)) return v.map((item) => decodeStored(item, depth + 1));
  const o = v as Record<string, unknown>;
  if (o[TAG] === 'Date' && typeof o.value === 'string') return new Date(o.value);
  if (o[TAG] === 'Error') return rebuildError(o, depth);
  const out: Record<string, unknown> = {};
  for (const [k, item] of Object.entries(o)) out[k] = decodeStored(item, depth + 1);
  return out;
}

const STANDARD_ERRORS: Record<string, ErrorConstructor> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

function rebuildError(o: Record<string, unknown>, depth: number): Error {
  const cause = o.cause === undefined ? {} : { cause: decodeStored(o.cause, depth + 1) };
  const name = typeof o.name === 'string' ? o.name : 'Error';
  const error = new (STANDARD_ERRORS[name] ?? Error)(String(o.message ?? ''), cause);
  // As on a class's prototype: a custom name must not show up as an own enumerable field.
  if (error.name !== name) Object.defineProperty(error, 'name', { value: name, writable: true, configurable: true, enumerable: false });
  const fields = (o.fields ?? {}) as Record<string, unknown>;
  for (const [k, f] of Object.entries(fields)) (error as unknown as Record<string, unknown>)[k] = decodeStored(f, depth + 1);
  return error;
}

/** A value a transition stores that would not come back the same from the database. */
export function unserializable(path: string, reason: string): RuntimeError {
  return new RuntimeError(
    'unserializable_value',
    `${path} is ${reason}, which does not survive storage; store plain JSON (strings for dates, plain objects for data).`,
    { path, reason },
  );
}

/**
 * A value the runtime hands to a machine (a step's rejection) as it will read
 * after a restart: through the codec, so an `Error` comes back rebuilt with
 * its name, message, cause and own enumerable fields, a plain object or a
 * string as itself. A value the codec cannot hold (a class instance, a
 * function) is reduced to `{ name, message }`, the same in memory and storage.
 */
export function roundTrip(value: unknown): unknown {
  try {
    return decodeStored(encodeStored(value, 'error'));
  } catch {
    const e = value as { name?: unknown; message?: unknown } | null;
    return { name: typeof e?.name === 'string' ? e.name : 'Error', message: String(e?.message ?? value) };
  }
}

/** `value` in its stored (tagged) form when the codec holds it, else as given (then checked as plain JSON by the store). */
export function storedForm(value: unknown): unknown {
  try {
    return encodeStored(value, 'payload');
  } catch {
    return value;
  }
}
