import type { Runtime, SendResult } from '../runtime/index.ts';
import { ApiError } from './errors.ts';

/**
 * The answers an event request gets beyond its result, shared by every route that sends one
 * (`POST /v1/instances/{id}/events`, `POST /v1/correlate`, `POST /v1/hooks/{source}`).
 */

/** The current state does not take the event: 409 naming the events it does take. */
export async function notAccepted(runtime: Runtime, id: string, tenant: string, type: string, result: SendResult): Promise<never> {
  const d = await runtime.describe(id, { tenant });
  throw new ApiError(
    409,
    'event_not_accepted',
    `Instance "${id}" in state ${JSON.stringify(result.value)} does not accept "${type}"; see details.acceptedEvents.`,
    {
      instanceId: id,
      state: d.value,
      status: d.status,
      acceptedEvents: d.acceptedEvents,
    },
  );
}

/**
 * A repeated idempotency key must carry the same event: a different type or
 * payload is refused (422) rather than silently answered with the first result.
 */
export async function assertSameEvent(
  runtime: Runtime,
  id: string,
  tenant: string,
  key: string,
  event: { type: string } & Record<string, unknown>,
): Promise<void> {
  const { type, ...rest } = event;
  const payload = Object.keys(rest).length ? rest : null;
  // Duplicates are rare, so a scan of the history is acceptable here.
  for (let after = 0; ; ) {
    const page = await runtime.history(id, { tenant, afterSeq: after, limit: 500 });
    const prior = page.find((e) => e.idempotencyKey === key);
    if (prior) {
      if (prior.type !== type || canonical(prior.payload) !== canonical(payload)) {
        throw new ApiError(
          422,
          'idempotency_conflict',
          `Idempotency key "${key}" was used on instance "${id}" for a different event (${prior.type}).`,
          { instanceId: id, seq: prior.seq },
        );
      }
      return;
    }
    if (page.length < 500) return;
    after = page.at(-1)!.seq;
  }
}

/** JSON with sorted keys, so key order does not make two payloads differ. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b))) : x,
  );
}
