/**
 * Delivery by business key: find the tenant's active instances whose
 * correlation index holds `key` = `value` (see `correlation.ts`) and send the
 * event to them through the ordinary event path, so it is admitted, decided
 * and recorded exactly as `runtime.send` would.
 */
import type { EventObject } from 'xstate';
import { CORRELATION_KEY_RE, CORRELATION_VALUE_MAX } from './correlation.ts';
import { RuntimeError } from './errors.ts';
import { DEFAULT_TENANT, publicId } from './instance-ids.ts';
import type { EventSource, InstanceStore } from './ports.ts';
import type { Registry } from './registry.ts';
import { badString } from './storable.ts';
import type { ApplyFn } from './transition.ts';
import type { Caller, SendResult } from './types.ts';
import { checkEvent, checkTenant } from './validate.ts';

/** Most instances one `all: true` correlation delivers to. */
export const CORRELATE_ALL_MAX = 1000;
/** Most instance ids an ambiguity error lists. */
const AMBIGUOUS_LISTED = 20;

/** Options of `runtime.correlate`. */
export interface CorrelateOptions {
  /** A key some registered machine declares in `RegisterOptions.correlation`. */
  readonly key: string;
  readonly value: string;
  readonly event: EventObject & Record<string, unknown>;
  /** Only instances of this machine id (any version). */
  readonly machine?: string;
  /** Deliver to every match (at most {@link CORRELATE_ALL_MAX}) instead of refusing several as ambiguous. */
  readonly all?: boolean;
  readonly tenant?: string;
  readonly caller?: Caller;
  /** Applied once per instance: a repeat answers with the first result (`duplicate: true`). */
  readonly idempotencyKey?: string;
  /** Recorded in history (default `api`). */
  readonly source?: EventSource;
}

/** One instance's outcome of a correlated event: its send result, or (with `all`) the error that refused it. */
export type CorrelatedDelivery = SendResult | { instanceId: string; error: { code: string; message: string } };

/** Result of `runtime.correlate`. */
export interface CorrelateResult {
  readonly key: string;
  readonly value: string;
  /** In instance id order; exactly one without `all`. */
  readonly deliveries: CorrelatedDelivery[];
}

/** What {@link correlate} needs of the runtime. */
export interface CorrelateDeps {
  readonly store: InstanceStore;
  readonly registry: Registry;
  readonly apply: ApplyFn;
}

/**
 * Sends `options.event` to the instance waiting on `key` = `value`.
 * @throws RuntimeError `invalid_argument` (a key no registered machine declares, a bad value or event),
 * `correlation_not_found`, `correlation_ambiguous` (several match and `all` is not set; `details.instanceIds`),
 * or, without `all`, whatever `send` throws for the matched instance.
 */
export async function correlate(d: CorrelateDeps, options: CorrelateOptions): Promise<CorrelateResult> {
  const { key, value, machine, all = false } = checkOptions(d.registry, options);
  const tenant = options.tenant ?? DEFAULT_TENANT;
  const limit = all ? CORRELATE_ALL_MAX + 1 : AMBIGUOUS_LISTED + 1;
  const ids = await d.store.findCorrelated({ tenant, key, value, machineId: machine, limit });
  const where = `${machine ? `machine "${machine}", ` : ''}${key} = ${JSON.stringify(value)}`;
  if (ids.length === 0) {
    throw new RuntimeError('correlation_not_found', `No active instance is waiting on ${where}.`, { key, value, machine });
  }
  if ((!all && ids.length > 1) || ids.length > CORRELATE_ALL_MAX) {
    const listed = ids.slice(0, all ? CORRELATE_ALL_MAX : AMBIGUOUS_LISTED).map((id) => publicId(tenant, id));
    const more = ids.length > listed.length ? ' (and more)' : '';
    const fix = all ? `more than ${CORRELATE_ALL_MAX} match; narrow by machine` : 'name the machine, or send with all: true';
    throw new RuntimeError('correlation_ambiguous', `${ids.length}${more} active instances wait on ${where}: ${fix}.`, {
      key,
      value,
      machine,
      instanceIds: listed,
    });
  }
  const send = (id: string) =>
    d.apply(id, options.event, {
      source: options.source ?? 'api',
      caller: options.caller,
      tenant,
      idempotencyKey: options.idempotencyKey,
    });
  if (!all) return { key, value, deliveries: [await send(ids[0]!)] };
  // Each instance has its own mailbox: the deliveries run side by side, and one refusal does not stop the others.
  const settled = await Promise.allSettled(ids.map(send));
  const deliveries = settled.map((s, i): CorrelatedDelivery => {
    if (s.status === 'fulfilled') return s.value;
    const e = s.reason as { code?: unknown; message?: unknown };
    if (!(s.reason instanceof RuntimeError)) throw s.reason;
    return { instanceId: publicId(tenant, ids[i]!), error: { code: String(e.code), message: String(e.message) } };
  });
  return { key, value, deliveries };
}

function checkOptions(registry: Registry, o: CorrelateOptions): CorrelateOptions {
  const bad = (problem: string) => RuntimeError.invalidArgument('correlate', problem);
  if (!o || typeof o !== 'object') throw bad('expected { key, value, event }');
  if (o.tenant !== undefined) checkTenant('correlate', o.tenant);
  if (o.all !== undefined && typeof o.all !== 'boolean') throw bad('all must be a boolean');
  if (typeof o.key !== 'string' || !CORRELATION_KEY_RE.test(o.key)) {
    throw bad(`key must be a correlation key name (1-64 letters, digits, ".", "_" or "-"), got ${JSON.stringify(o.key)}`);
  }
  if (typeof o.value !== 'string' || o.value.length === 0 || o.value.length > CORRELATION_VALUE_MAX) {
    throw bad(`value must be a string of 1-${CORRELATION_VALUE_MAX} characters`);
  }
  const problem = badString(o.value);
  if (problem) throw bad(`value contains ${problem}`);
  checkEvent(o.event);
  // A key nobody declares can match nothing: say so instead of answering "not found" forever.
  const regs = o.machine === undefined ? registry.list() : registry.list().filter((r) => r.id === o.machine);
  if (o.machine !== undefined && regs.length === 0) throw RuntimeError.machineNotFound(String(o.machine));
  if (!regs.some((r) => r.correlation?.keys.includes(o.key))) {
    const declared = [...new Set(regs.flatMap((r) => r.correlation?.keys ?? []))].sort();
    throw bad(
      `no registered machine${o.machine ? ` "${o.machine}"` : ''} declares the correlation key "${o.key}" ` +
        `(declared: ${declared.join(', ') || 'none'})`,
    );
  }
  return o;
}
