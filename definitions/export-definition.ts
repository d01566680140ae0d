/**
 * A registered machine as a JSON definition: the machine config in the shape
 * Stately Studio imports and exports (implementations by name, delays and
 * params kept), not XState's resolved state-node tree.
 */
import type { AnyStateMachine } from 'xstate';
import { sourceDefinitionOf } from './build-machine.ts';
import type { ActionImplementation, ActorImplementation, GuardImplementation, MapperImplementation } from './catalog.ts';
import { pointer } from './issues.ts';
import type { MachineDefinition } from './validate-definition.ts';
import { isPlain } from './values.ts';

/** An exported definition with the inline implementations it names (`inline:<JSON Pointer>`). */
export interface ExportedDefinition {
  readonly definition: MachineDefinition;
  /**
   * Functions written inline in a TypeScript machine (an `assign(...)` in a
   * transition, a guard arrow function, an input mapper), by the name the
   * definition gives them: pass them with the machine's own implementations to
   * build the same machine again.
   */
  readonly inline: {
    guards: Record<string, GuardImplementation>;
    actions: Record<string, ActionImplementation>;
    actors: Record<string, ActorImplementation>;
    mappers: Record<string, MapperImplementation>;
  };
}

type Seg = string | number;
const SKIP = new Set(['types', 'schemas', 'predictableActionArguments']);

/**
 * Exports a machine's definition. A machine built from JSON returns that JSON;
 * a TypeScript machine returns its config with inline functions named by
 * where they are.
 * @example
 * ```ts
 * const { definition, inline } = exportDefinition(greetingMachine);
 * const again = buildMachine(definition, createCatalog(catalogOfMachine(greetingMachine), inline));
 * ```
 */
export function exportDefinition(machine: AnyStateMachine, version?: string): ExportedDefinition {
  const inline: ExportedDefinition['inline'] = { guards: {}, actions: {}, actors: {}, mappers: {} };
  const source = sourceDefinitionOf(machine);
  if (source) return { definition: structuredClone(source), inline };
  const named = new Map<unknown, string>(Object.entries(machine.implementations.actors ?? {}).map(([k, v]) => [v, k]));
  const ex = new Exporter(inline, named);
  const definition = ex.node(machine.config as Record<string, unknown>, [], true) as MachineDefinition;
  definition.id = machine.id;
  if (version !== undefined && definition.version === undefined) definition.version = version;
  return { definition, inline };
}

class Exporter {
  constructor(
    private readonly inline: ExportedDefinition['inline'],
    private readonly namedActors: Map<unknown, string>,
  ) {}

  node(config: Record<string, unknown>, at: Seg[], root = false): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(config)) {
      if (v === undefined || SKIP.has(k)) continue;
      const here = [...at, k];
      switch (k) {
        case 'states':
          out.states = Object.fromEntries(
            Object.entries(v as Record<string, Record<string, unknown>>).map(([key, child]) => [key, this.node(child, [...here, key])]),
          );
          break;
        case 'on':
        case 'after':
          out[k] = Object.fromEntries(
            Object.entries(v as Record<string, unknown>).map(([key, t]) => [key, this.transitions(t, [...here, key])]),
          );
          break;
        case 'always':
        case 'onDone':
          out[k] = this.transitions(v, here);
          break;
        case 'entry':
        case 'exit':
          out[k] = this.actions(v, here);
          break;
        case 'invoke':
          out.invoke = Array.isArray(v)
            ? v.map((inv, i) => this.invoke(inv, [...here, i]))
            : this.invoke(v as Record<string, unknown>, here);
          break;
        case 'context':
        case 'output':
          out[k] = typeof v === 'function' ? this.mapper(v as MapperImplementation, here) : plain(v);
          break;
        default:
          out[k] = plain(v);
      }
    }
    if (root) delete out.version;
    if (root && typeof config.version === 'string') out.version = config.version;
    return out;
  }

  private transitions(value: unknown, at: Seg[]): unknown {
    if (Array.isArray(value)) return value.map((t, i) => this.transition(t, [...at, i]));
    return this.transition(value, at);
  }

  private transition(t: unknown, at: Seg[]): unknown {
    if (!isPlain(t)) return plain(t);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(t)) {
      if (v === undefined) continue;
      if (k === 'guard') out.guard = typeof v === 'function' ? this.name('guards', v, [...at, k]) : plain(v);
      else if (k === 'actions') out.actions = this.actions(v, [...at, k]);
      else out[k] = plain(v);
    }
    return out;
  }

  private actions(value: unknown, at: Seg[]): unknown {
    const one = (a: unknown, here: Seg[]) => {
      if (typeof a === 'function') return { type: this.name('actions', a, here) };
      return plain(a);
    };
    return Array.isArray(value) ? value.map((a, i) => one(a, [...at, i])) : one(value, at);
  }

  private invoke(inv: Record<string, unknown>, at: Seg[]): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(inv)) {
      if (v === undefined) continue;
      if (k === 'src') out.src = typeof v === 'string' ? v : (this.namedActors.get(v) ?? this.name('actors', v, [...at, k]));
      else if (k === 'input') out.input = typeof v === 'function' ? this.mapper(v as MapperImplementation, [...at, k]) : plain(v);
      else if (k === 'onDone' || k === 'onError' || k === 'onSnapshot') out[k] = this.transitions(v, [...at, k]);
      else out[k] = plain(v);
    }
    return out;
  }

  private mapper(fn: MapperImplementation, at: Seg[]): { $ref: string } {
    const name = `inline:${pointer(at)}`;
    this.inline.mappers[name] = fn;
    return { $ref: name };
  }

  private name(kind: 'guards' | 'actions' | 'actors', impl: unknown, at: Seg[]): string {
    const name = `inline:${pointer(at)}`;
    if (kind === 'guards') this.inline.guards[name] = { fn: impl as never };
    else if (kind === 'actions') this.inline.actions[name] = { fn: impl };
    else this.inline.actors[name] = { logic: impl as never };
    return name;
  }
}

/** A JSON copy of data; functions and other non-JSON values are dropped. */
function plain(v: unknown, depth = 0): unknown {
  if (depth > 64 || typeof v === 'function' || typeof v === 'symbol' || typeof v === 'bigint') return undefined;
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map((x) => plain(x, depth + 1) ?? null);
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    const p = plain(x, depth + 1);
    if (p !== undefined) out[k] = p;
  }
  return out;
}
