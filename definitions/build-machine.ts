/**
 * Builds an XState machine from a validated JSON definition: named
 * implementations come from the catalog, `$expr` / `$ref` values become the
 * functions XState expects, invoked machine ids become child machines.
 */
import { setup, type AnyStateMachine } from 'xstate';
import type { ImplementationCatalog, MapperImplementation } from './catalog.ts';
import type { MachineDefinition } from './validate-definition.ts';
import { evaluateExpression } from './expressions.ts';
import { isDynamic, isPlain, resolveValue } from './values.ts';

const sources = new WeakMap<AnyStateMachine, MachineDefinition>();

/** Options of {@link buildMachine}. */
export interface BuildOptions {
  /** The machine registered under an id, for `invoke.src` that names one (a child instance). */
  readonly machine?: (id: string) => AnyStateMachine | undefined;
}

/**
 * The machine of a definition.
 * @remarks Validate first ({@link validateDefinition}): this trusts names and targets.
 * The definition is kept with the machine, so {@link definitionOf} returns it unchanged.
 * @example
 * ```ts
 * const r = validateDefinition(json, catalog);
 * if (r.ok) runtime.register(buildMachine(r.definition, catalog), { version: r.definition.version ?? '1' });
 * ```
 */
export function buildMachine(definition: MachineDefinition, catalog: ImplementationCatalog, options: BuildOptions = {}): AnyStateMachine {
  const mappers = catalog.mappers;
  const children: Record<string, AnyStateMachine> = {};
  const exprDelays: Record<string, (args: { context: unknown; event: unknown }) => number> = {};
  const config = transformNode(
    structuredClone(definition),
    mappers,
    (src) => {
      if (Object.hasOwn(catalog.actors, src)) return;
      const child = options.machine?.(src);
      if (child) children[src] = child;
    },
    // An `after` key "=<CEL>" is a delay computed on entry; the runtime refuses a result that is not a finite number.
    (key) => {
      exprDelays[key] = ({ context, event }) => Number(evaluateExpression(key.slice(1), { context, event }));
    },
  );
  const { version: _v, $schema: _s, ...machineConfig } = config as Record<string, unknown>;
  if (definition.context !== undefined) {
    const context = definition.context;
    machineConfig.context = isDynamic(context)
      ? ({ input }: { input: unknown }) => resolveValue(context, { input: input ?? null }, mappers)
      : structuredClone(context);
  }
  const pick = <T>(rec: Readonly<Record<string, T>>, f: (v: T) => unknown) =>
    Object.fromEntries(Object.entries(rec).map(([k, v]) => [k, f(v)]));
  const machine = setup({
    guards: pick(catalog.guards, (g) => g.fn) as never,
    actions: pick(catalog.actions, (a) => a.fn) as never,
    actors: { ...pick(catalog.actors, (a) => a.logic), ...children } as never,
    delays: { ...pick(catalog.delays, (d) => d.fn), ...exprDelays } as never,
  }).createMachine({
    ...(machineConfig as object),
    ...(definition.version ? { version: definition.version } : {}),
  } as never) as unknown as AnyStateMachine;
  sources.set(machine, definition);
  return machine;
}

/** The definition a machine was built from by {@link buildMachine}, if it was. */
export function sourceDefinitionOf(machine: AnyStateMachine): MachineDefinition | undefined {
  return sources.get(machine);
}

/** Replaces dynamic `input` and `output` values by functions; reports every invoked `src`. */
function transformNode(
  node: Record<string, unknown>,
  mappers: Readonly<Record<string, MapperImplementation>>,
  onSrc: (src: string) => void,
  onExprDelay: (key: string) => void,
): Record<string, unknown> {
  if (isPlain(node.after)) for (const key of Object.keys(node.after)) if (key.startsWith('=')) onExprDelay(key);
  if (node.output !== undefined && isDynamic(node.output)) {
    const output = node.output;
    node.output = ({ context, event }: { context: unknown; event: unknown }) => resolveValue(output, { context, event }, mappers);
  }
  if (node.invoke !== undefined) {
    const list = (Array.isArray(node.invoke) ? node.invoke : [node.invoke]) as Record<string, unknown>[];
    for (const inv of list) {
      onSrc(inv.src as string);
      if (inv.input !== undefined && isDynamic(inv.input)) {
        const input = inv.input;
        inv.input = ({ context, event }: { context: unknown; event: unknown }) => resolveValue(input, { context, event }, mappers);
      }
    }
  }
  if (isPlain(node.states))
    for (const child of Object.values(node.states)) transformNode(child as Record<string, unknown>, mappers, onSrc, onExprDelay);
  return node;
}
