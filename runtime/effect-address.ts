/**
 * Effect addresses: how an effect row is named (its id), which open effects a
 * commit cancels (cancel keys) and where an event effect is delivered
 * (targets). This is the one module that knows their string forms; everything
 * else handles the typed values.
 *
 * @remarks Ids and targets are persisted (`sk_effect.id`, `sk_effect.target`),
 * so their string forms are data: changing one needs a data migration.
 */
import type { EffectKind, EffectRecord } from './ports.ts';

/** Which open effects of an instance a commit cancels. */
export type CancelKey =
  /** The invoked step or child machine with this invoke id (`xstate.stopChild`). */
  | { readonly kind: 'actor'; readonly invokeId: string }
  /**
   * The open delayed raise/send that holds this send id (`xstate.cancel`, or leaving the state of an `after`):
   * of several open with one id, only the one XState's scheduler holds under it ({@link EffectRecord.keyed}).
   */
  | { readonly kind: 'timer'; readonly sendId: string }
  /** This open timer row, whether it holds its send id or not (a migration dropping a timer its target does not define). */
  | { readonly kind: 'timerRow'; readonly effectId: string }
  /** Every open effect: the instance is being stopped. */
  | { readonly kind: 'all' };

/** Where an event effect (send or timer) is delivered. */
export type EventTarget =
  /** The instance that recorded the effect (a delayed raise, an `after`). */
  | { readonly kind: 'self' }
  /** The parent instance (`sendParent`), by instance id. */
  | { readonly kind: 'parent'; readonly instanceId: string }
  /** The invoked child instance under this invoke id, resolved to its instance id on delivery. */
  | { readonly kind: 'child'; readonly invokeId: string };

/** Builders of effect ids. An id is the effect's idempotency key and starts with its instance id. */
export const effectId = {
  /** A step or child machine invoked by the commit writing version `generation`. */
  invoke: (instanceId: string, invokeId: string, generation: number): string => `${instanceId}:${invokeId}:${generation}`,
  /** The `index`-th action of that commit, an undelayed send. */
  send: (instanceId: string, generation: number, index: number): string => `${instanceId}:send:${generation}.${index}`,
  /** A delayed raise or send; the `occurrence`-th (from 0) of that send id in that commit. */
  timer: (instanceId: string, sendId: string, generation: number, occurrence = 0): string =>
    `${instanceId}:timer:${sendId}:${generation}${occurrence ? `.${occurrence}` : ''}`,
};

/** True when the effect id names an effect of `instanceId` (ids start with their instance's id). */
export function effectOf(effectIdValue: string, instanceId: string): boolean {
  return effectIdValue.startsWith(`${instanceId}:`);
}

/** The key that cancels an effect row (sends have none: once recorded they are delivered; a timer's only while it holds its id). */
export function cancelKeyOf(effect: Pick<EffectRecord, 'kind' | 'name' | 'keyed'>): CancelKey | undefined {
  if (effect.kind === 'step' || effect.kind === 'child') return { kind: 'actor', invokeId: effect.name };
  if (effect.kind === 'timer' && effect.keyed) return { kind: 'timer', sendId: effect.name };
  return undefined;
}

/** True when one of `keys` cancels the open effect `effect` (by send id, a timer only while it holds the id). */
export function cancels(keys: readonly CancelKey[], effect: Pick<EffectRecord, 'id' | 'kind' | 'name' | 'keyed'>): boolean {
  return keys.some((k) => {
    switch (k.kind) {
      case 'all':
        return true;
      case 'actor':
        return (effect.kind === 'step' || effect.kind === 'child') && effect.name === k.invokeId;
      case 'timer':
        return effect.kind === 'timer' && effect.keyed && effect.name === k.sendId;
      case 'timerRow':
        return effect.kind === 'timer' && effect.id === k.effectId;
    }
  });
}

/** The commit statement's form of cancel keys (see {@link cancelFilter}). */
export type CancelFilter = Partial<Record<EffectKind, string[]>> & { all?: true; timerRows?: string[] };

/**
 * The cancel keys as a filter by effect kind: `{ all: true }` or `{ step: [names], child: [names], timer: [names],
 * timerRows: [ids] }`. The commit statement matches a row with `cancel ? 'all' or (cancel -> kind) ? name` (a timer
 * row only while `keyed`) or `(cancel -> 'timerRows') ? id`, so SQL needs no key format.
 */
export function cancelFilter(keys: readonly CancelKey[]): CancelFilter {
  if (keys.some((k) => k.kind === 'all')) return { all: true };
  const filter: CancelFilter = {};
  const add = (kind: EffectKind | 'timerRows', name: string) => (filter[kind] ??= []).push(name);
  for (const k of keys) {
    if (k.kind === 'actor') add('step', k.invokeId), add('child', k.invokeId);
    else if (k.kind === 'timer') add('timer', k.sendId);
    else if (k.kind === 'timerRow') add('timerRows', k.effectId);
  }
  return filter;
}

/** Stored form of a target: `null` for self, `parent:<instanceId>`, `child:<invokeId>`. */
export function encodeTarget(target: EventTarget): string | null {
  switch (target.kind) {
    case 'self':
      return null;
    case 'parent':
      return `parent:${target.instanceId}`;
    case 'child':
      return `child:${target.invokeId}`;
  }
}

/** Reads a stored target; `undefined` for a form this runtime does not know (delivery then fails the effect). */
export function decodeTarget(stored: string | null): EventTarget | undefined {
  if (stored === null) return { kind: 'self' };
  const colon = stored.indexOf(':');
  const [kind, rest] = [stored.slice(0, colon), stored.slice(colon + 1)];
  if (colon <= 0 || !rest) return undefined;
  if (kind === 'parent') return { kind: 'parent', instanceId: rest };
  if (kind === 'child') return { kind: 'child', invokeId: rest };
  return undefined;
}
