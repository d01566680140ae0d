/**
 * Implementations that JSON and YAML definitions refer to by name: guards,
 * actions, actors (durable steps or registered machines), delays and value
 * mappers, each with an optional zod schema for the `params` (or static input)
 * a definition passes.
 */
import { assign, emit, type AnyActorLogic, type AnyStateMachine } from 'xstate';
import { z } from 'zod';
import { step, type StepPolicy } from '../runtime/step.ts';
import { evaluateExpression } from './expressions.ts';
import { resolveValue } from './values.ts';

/** What XState passes to a guard, action, delay or mapper. */
export interface ImplementationArgs {
  readonly context: any;
  readonly event: any;
}

/** A named guard: `(args, params) => boolean`. */
export interface GuardImplementation {
  readonly fn: (args: ImplementationArgs, params: any) => boolean;
  readonly params?: z.ZodType;
  readonly description?: string;
}

/** A named action: a function, or an XState action creator's result (`assign(...)`, `raise(...)`). */
export interface ActionImplementation {
  readonly fn: unknown;
  readonly params?: z.ZodType;
  readonly description?: string;
}

/** A named actor: usually a durable step placeholder (`step(policy)`); `input` checks a static invoke input. */
export interface ActorImplementation {
  readonly logic: AnyActorLogic;
  readonly input?: z.ZodType;
  readonly description?: string;
}

/** A named delay in milliseconds, fixed or computed from context and event. */
export interface DelayImplementation {
  readonly fn: number | ((args: ImplementationArgs, params: any) => number);
  readonly description?: string;
}

/** A named value mapper for `{ "$ref": name }` (context, invoke input, output). */
export type MapperImplementation = (args: ImplementationArgs & { readonly input?: unknown }) => unknown;

/** Everything a definition may name. */
export interface ImplementationCatalog {
  readonly guards: Readonly<Record<string, GuardImplementation>>;
  readonly actions: Readonly<Record<string, ActionImplementation>>;
  readonly actors: Readonly<Record<string, ActorImplementation>>;
  readonly delays: Readonly<Record<string, DelayImplementation>>;
  readonly mappers: Readonly<Record<string, MapperImplementation>>;
}

/** Parts of a catalog; every category optional. */
export type CatalogParts = { readonly [K in keyof ImplementationCatalog]?: ImplementationCatalog[K] };

const exprParams = z.object({ expr: z.string().min(1) }).strict();
const assignParams = z.record(z.string().regex(/^[A-Za-z_$][\w$]*$/, 'a context key'), z.unknown());
const setParams = z
  .object({ path: z.string().regex(/^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*){0,15}$/, 'a dotted context path'), value: z.unknown() })
  .strict();
const emitParams = z.object({ event: z.looseObject({ type: z.string().min(1).max(200) }) }).strict();

/** A copy of `obj` with the value at `path` replaced (plain objects created on the way). */
function setIn(obj: unknown, path: readonly string[], value: unknown): unknown {
  const [head, ...rest] = path;
  const base = obj && typeof obj === 'object' && !Array.isArray(obj) ? (obj as Record<string, unknown>) : {};
  return { ...base, [head!]: rest.length ? setIn(base[head!], rest, value) : value };
}

/**
 * Implementations every definition can use without registering them:
 * - guard `expr` (`params.expr`: a CEL expression over `context` and `event`),
 * - guard `when` (`params.expr`: a CEL expression over `input`, the start input kept in `context.input`),
 * - action `assign` (`params`: context keys to values; `{ "$expr": "..." }` values are evaluated),
 * - action `set` (`params.path`: a dotted context path, `params.value`: its new value),
 * - action `emit` (`params.event`: the event emitted to the outbox),
 * - delays written as `after` keys `=<CEL>`: the delay in ms, computed over `context` and `event` on entry.
 */
export const BUILTIN_IMPLEMENTATIONS: ImplementationCatalog = {
  guards: {
    expr: {
      fn: ({ context, event }, params: { expr: string }) => evaluateExpression(params.expr, { context, event }) === true,
      params: exprParams,
      description: 'True when the CEL expression params.expr yields true.',
    },
    when: {
      fn: ({ context }, params: { expr: string }) => evaluateExpression(params.expr, { input: context?.input ?? null }) === true,
      params: exprParams,
      description: 'True when params.expr, a CEL expression over `input` (the start input kept in context.input), yields true.',
    },
  },
  actions: {
    assign: {
      fn: assign(
        ({ context, event }, params: Record<string, unknown>) => resolveValue(params, { context, event }) as Record<string, unknown>,
      ),
      params: assignParams,
      description: 'Sets context keys; values may be { "$expr": "<CEL>" }.',
    },
    set: {
      fn: assign(({ context, event }, params: { path: string; value: unknown }) => {
        const [head, ...rest] = params.path.split('.');
        const value = resolveValue(params.value, { context, event });
        return { [head!]: rest.length ? setIn((context as Record<string, unknown>)[head!], rest, value) : value };
      }),
      params: setParams,
      description: 'Sets one value at a dotted context path (params.path); params.value may be { "$expr": "<CEL>" }.',
    },
    emit: {
      fn: emit(({ context, event }, params: { event: Record<string, unknown> }) => resolveValue(params.event, { context, event }) as never),
      params: emitParams,
      description: 'Emits params.event (to the outbox); its values may be { "$expr": "<CEL>" }.',
    },
  },
  actors: {},
  delays: {},
  mappers: {},
};

/**
 * Builds a catalog: the built-ins, then `parts` (later names win).
 * @example
 * ```ts
 * const catalog = createCatalog(stepActors(['sendEmail']), { guards: { isVip: { fn: ({ context }) => context.vip } } });
 * ```
 */
export function createCatalog(...parts: CatalogParts[]): ImplementationCatalog {
  const merge = <K extends keyof ImplementationCatalog>(k: K) =>
    Object.assign({}, BUILTIN_IMPLEMENTATIONS[k], ...parts.map((p) => p[k] ?? {})) as ImplementationCatalog[K];
  return {
    guards: merge('guards'),
    actions: merge('actions'),
    actors: merge('actors'),
    delays: merge('delays'),
    mappers: merge('mappers'),
  };
}

/** Durable steps by name (the runtime runs the implementation registered under the same name). */
export function stepActors(names: Iterable<string>, policies: Record<string, StepPolicy> = {}): CatalogParts {
  return { actors: Object.fromEntries([...names].map((n) => [n, { logic: step(policies[n] ?? {}) }])) };
}

/**
 * The named implementations a machine was set up with (`setup({ guards, actions, actors, delays })`),
 * so a definition exported from it can be built again with the same behaviour.
 */
export function catalogOfMachine(machine: AnyStateMachine): CatalogParts {
  const impl = machine.implementations;
  const wrap = <T>(rec: Record<string, unknown> | undefined, f: (v: any) => T) =>
    Object.fromEntries(Object.entries(rec ?? {}).map(([k, v]) => [k, f(v)]));
  return {
    guards: wrap(impl.guards, (fn) => ({ fn })),
    actions: wrap(impl.actions, (fn) => ({ fn })),
    actors: wrap(impl.actors, (logic) => ({ logic })),
    delays: wrap(impl.delays, (fn) => ({ fn })),
  };
}
