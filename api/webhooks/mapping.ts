import type { WebhookExpr, WebhookSource } from './webhook-config.ts';

/** What a verified webhook body maps to: the arguments of `runtime.correlate`. */
export interface MappedDelivery {
  machine?: string;
  key: string;
  value: string;
  event: { type: string } & Record<string, unknown>;
  all?: boolean;
}

/** A body the source's mapping cannot use (a pointer to nothing, a value of the wrong kind). */
export class MappingError extends Error {
  override name = 'MappingError';
}

/** The value at an RFC 6901 pointer (`undefined` when there is none); own properties only. */
export function atPointer(doc: unknown, pointer: string): unknown {
  if (pointer === '') return doc;
  let v = doc;
  for (const raw of pointer.slice(1).split('/')) {
    const token = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (v === null || typeof v !== 'object' || !Object.hasOwn(v, token)) return undefined;
    v = (v as Record<string, unknown>)[token];
  }
  return v;
}

/** Whether the body passes the source's `when` filter. */
export function wanted(source: Pick<WebhookSource, 'when'>, body: unknown): boolean {
  return Object.entries(source.when ?? {}).every(([pointer, expected]) => scalar(atPointer(body, pointer)) === expected);
}

/**
 * The correlation the body asks for, by the source's declarative mapping.
 * @throws MappingError naming the field and pointer that did not yield what it needs.
 */
export function mapDelivery(source: Pick<WebhookSource, 'map'>, body: unknown): MappedDelivery {
  const { map } = source;
  const text = (name: string, e: WebhookExpr) => {
    const v = typeof e === 'string' ? e : scalar(atPointer(body, e.from));
    if (v === undefined || v === '') throw new MappingError(`${name}: ${describe(e)} is not a non-empty string or number in the body`);
    return v;
  };
  const fields: Record<string, unknown> = {};
  for (const [name, e] of Object.entries(map.event.fields ?? {})) {
    const v = typeof e === 'string' ? e : atPointer(body, e.from);
    if (v !== undefined) fields[name] = v;
  }
  return {
    ...(map.machine !== undefined && { machine: map.machine }),
    key: map.key,
    value: text('value', map.value),
    event: { ...fields, type: text('event.type', map.event.type) },
    ...(map.all !== undefined && { all: map.all }),
  };
}

/** Strings as they are, finite numbers in decimal; anything else has no scalar form. */
function scalar(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

function describe(e: WebhookExpr): string {
  return typeof e === 'string' ? JSON.stringify(e) : `the value at ${JSON.stringify(e.from)}`;
}
