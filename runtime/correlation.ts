/**
 * Correlation by business key: a machine declares, at registration, keys whose
 * values are read from its context (`{ username: 'input.subscriber.username' }`
 * or `{ order: (ctx) => ctx.orderId }`). Each commit that changes those values
 * rewrites the instance's rows of the correlation index in the same
 * transaction, so an outside event can find "the instance waiting for order
 * 42" without knowing its id (`runtime.correlate`, `POST /v1/correlate`).
 *
 * @remarks Only active instances have rows: a commit that ends an instance
 * (done, error, stopped) removes them. Values are strings of at most
 * {@link CORRELATION_VALUE_MAX} characters (finite numbers are written in
 * decimal); `undefined`, `null` and `''` mean "no value yet" and index nothing.
 * A value that cannot be indexed (an object, a NUL character, too long, a
 * throwing function) is the transition's error, as an unstorable context is.
 */
import type { AnyMachineSnapshot } from 'xstate';
import { RuntimeError } from './errors.ts';
import { badString } from './storable.ts';

/** A key's source: a dotted path into the context, or a pure function of the context. */
export type CorrelationSource = string | ((context: any) => unknown);

/** `RegisterOptions.correlation`: correlation keys by name. */
export type CorrelationSpec = Readonly<Record<string, CorrelationSource>>;

/** The indexed values of one instance, by key (only keys that have a value). */
export type CorrelationValues = Readonly<Record<string, string>>;

/**
 * What a commit does to the instance's index rows: `undefined` leaves them,
 * `null` removes them all, a record replaces them (keys it lacks are removed).
 */
export type CorrelationWrite = CorrelationValues | null | undefined;

/** Longest indexed value, in characters. */
export const CORRELATION_VALUE_MAX = 256;
/** Most keys one machine may declare. */
export const CORRELATION_KEYS_MAX = 16;

/** A key name: also what `POST /v1/correlate` takes as `key`. */
export const CORRELATION_KEY_RE = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;
const SEGMENT_RE = /^(?:[A-Za-z_$][A-Za-z0-9_$-]*|\d+)$/;
const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'prototype', 'constructor']);

/** A checked spec: each key with a reader of its raw value. */
export interface CompiledCorrelation {
  readonly keys: readonly string[];
  readonly readers: ReadonlyMap<string, (context: unknown) => unknown>;
}

/**
 * Checks `RegisterOptions.correlation` and compiles its paths.
 * @throws RuntimeError `invalid_argument` naming the key and what is wrong.
 */
export function compileCorrelation(spec: unknown): CompiledCorrelation | undefined {
  if (spec === undefined) return undefined;
  const bad = (problem: string) => RuntimeError.invalidArgument('register', `correlation${problem}`);
  if (!spec || typeof spec !== 'object' || Array.isArray(spec)) throw bad(' must be an object of key names to context paths or functions');
  const entries = Object.entries(spec);
  if (entries.length === 0) throw bad(' declares no key');
  if (entries.length > CORRELATION_KEYS_MAX) throw bad(` declares ${entries.length} keys; at most ${CORRELATION_KEYS_MAX}`);
  const readers = new Map<string, (context: unknown) => unknown>();
  for (const [key, source] of entries) {
    if (!CORRELATION_KEY_RE.test(key)) throw bad(`: key "${key}" must be 1-64 letters, digits, ".", "_" or "-", starting with a letter`);
    if (typeof source === 'function') readers.set(key, source as (context: unknown) => unknown);
    else if (typeof source === 'string') readers.set(key, pathReader(key, source, bad));
    else throw bad(`.${key} must be a context path ("subscriber.username") or a function of the context`);
  }
  return { keys: [...readers.keys()], readers };
}

function pathReader(key: string, path: string, bad: (p: string) => RuntimeError): (context: unknown) => unknown {
  const segments = path.split('.');
  if (path.length > 200 || segments.some((s) => !SEGMENT_RE.test(s) || FORBIDDEN_SEGMENTS.has(s))) {
    throw bad(`.${key}: "${path}" is not a context path (names or indexes joined by ".", e.g. "input.subscriber.username")`);
  }
  return (context) => {
    let v: unknown = context;
    for (const s of segments) {
      // Own properties only: a path never reaches into prototypes.
      if (v === null || typeof v !== 'object' || !Object.hasOwn(v, s)) return undefined;
      v = (v as Record<string, unknown>)[s];
    }
    return v;
  };
}

/**
 * The values `compiled` reads from a context.
 * @throws RuntimeError `invalid_correlation_value` naming the machine, the key and the value's problem.
 */
export function correlationValues(machineRef: string, compiled: CompiledCorrelation, context: unknown): CorrelationValues {
  const out: Record<string, string> = {};
  for (const [key, read] of compiled.readers) {
    let raw: unknown;
    try {
      raw = read(context);
    } catch (e) {
      throw invalidValue(machineRef, key, `its function threw: ${(e as Error)?.message ?? String(e)}`, e);
    }
    if (raw === undefined || raw === null || raw === '') continue;
    let value: string;
    if (typeof raw === 'string') value = raw;
    else if (typeof raw === 'number' && Number.isFinite(raw)) value = String(raw);
    else throw invalidValue(machineRef, key, `it is ${Array.isArray(raw) ? 'an array' : typeof raw}, not a string or a finite number`);
    if (value.length > CORRELATION_VALUE_MAX)
      throw invalidValue(machineRef, key, `it has ${value.length} characters, more than ${CORRELATION_VALUE_MAX}`);
    const problem = badString(value);
    if (problem) throw invalidValue(machineRef, key, `it contains ${problem}`);
    out[key] = value;
  }
  return out;
}

function invalidValue(machineRef: string, key: string, problem: string, cause?: unknown): RuntimeError {
  return new RuntimeError(
    'invalid_correlation_value',
    `Machine ${machineRef}: the value of correlation key "${key}" cannot be indexed: ${problem}. ` +
      `Correlation values are strings of 1-${CORRELATION_VALUE_MAX} characters without NUL (or finite numbers).`,
    { machine: machineRef, key },
    { cause },
  );
}

/** What an instance in `snapshot` has in the index: nothing unless it is active. */
function indexed(ref: string, compiled: CompiledCorrelation, snapshot: AnyMachineSnapshot | undefined): CorrelationValues | null {
  if (snapshot?.status !== 'active') return null;
  const values = correlationValues(ref, compiled, snapshot.context);
  return Object.keys(values).length ? values : null;
}

/**
 * The complete index write for an instance of `reg` in `snapshot` (`null`: no rows), for commits that
 * replace what was indexed whatever it was (a migration to another version, which may declare other keys).
 * @throws RuntimeError `invalid_correlation_value`.
 */
export function indexedNow(
  reg: { ref: string; correlation?: CompiledCorrelation },
  snapshot: AnyMachineSnapshot,
): CorrelationValues | null {
  return reg.correlation ? indexed(reg.ref, reg.correlation, snapshot) : null;
}

/**
 * The index write of a transition from `before` (undefined: a new instance) to `next`: `undefined` when the
 * indexed values stay the same, so most commits touch no index row.
 * @throws RuntimeError `invalid_correlation_value` when `next` holds a value that cannot be indexed.
 */
export function correlationWrite(
  ref: string,
  compiled: CompiledCorrelation | undefined,
  before: AnyMachineSnapshot | undefined,
  next: AnyMachineSnapshot,
): CorrelationWrite {
  if (!compiled) return undefined;
  const after = indexed(ref, compiled, next);
  let prior: CorrelationValues | null | undefined;
  try {
    prior = indexed(ref, compiled, before);
  } catch {
    // The earlier state cannot be read (stored before this spec): write the new values whatever they are.
    prior = undefined;
  }
  if (prior !== undefined && sameValues(prior, after)) return undefined;
  return after;
}

function sameValues(a: CorrelationValues | null, b: CorrelationValues | null): boolean {
  const ka = Object.keys(a ?? {});
  return ka.length === Object.keys(b ?? {}).length && ka.every((k) => a![k] === b?.[k]);
}
