/**
 * A registered machine as a Mermaid state diagram (`stateDiagram-v2`),
 * generated from XState's state-node tree: compound states as composite
 * states, parallel regions separated by `--`, history and final states,
 * transitions labelled with their event, guard and delay.
 */
import type { AnyStateMachine } from 'xstate';
import { mermaidStateId } from './mermaid-ids.ts';

type StateNode = AnyStateMachine['root'];
type Transition = NonNullable<StateNode['always']>[number];

/** Options of {@link machineToMermaid}. */
export interface MermaidOptions {
  /** Layout direction (default `LR`: workflows read left to right). */
  readonly direction?: 'LR' | 'TB';
  /** Show the step (invoked actor) of each atomic state under its name (default true). */
  readonly showSteps?: boolean;
}

const DONE_ACTOR = 'xstate.done.actor.';
const ERROR_ACTOR = 'xstate.error.actor.';
const DONE_STATE = 'xstate.done.state.';
const AFTER = 'xstate.after.';

/**
 * The machine's statechart as Mermaid text.
 *
 * @remarks State ids come from {@link mermaidStateId} (the path, escaped), so a
 * client can find a state of a snapshot on the rendered diagram. Each edge is
 * written in the innermost composite state that holds both its ends, because
 * Mermaid places a state in the block where it is first named.
 * @example
 * ```ts
 * const text = machineToMermaid(greetingMachine);
 * // stateDiagram-v2 / direction LR / [*] --> s_composing / s_composing --> s_awaitingConfirmation : done compose …
 * ```
 */
export function machineToMermaid(machine: AnyStateMachine, options: MermaidOptions = {}): string {
  const edges = collectEdges(machine.root);
  const lines = ['stateDiagram-v2', `  direction ${options.direction ?? 'LR'}`];
  writeChildren(machine.root, 1, lines, edges, options.showSteps ?? true);
  return `${lines.join('\n')}\n`;
}

/** Writes the children of a compound or parallel node (or the root), then the edges scoped to it. */
function writeChildren(node: StateNode, depth: number, out: string[], edges: Map<string, string[]>, showSteps: boolean): void {
  const pad = '  '.repeat(depth);
  const children = Object.values(node.states);
  if (node.type === 'parallel') {
    // Regions are the parallel node's children, separated by Mermaid's concurrency divider.
    children.forEach((region, i) => {
      if (i > 0) out.push(`${pad}--`);
      writeState(region, depth, out, edges, showSteps);
    });
  } else {
    const initial = node.type === 'compound' ? node.initial?.target : undefined;
    for (const target of initial ?? []) out.push(`${pad}[*] --> ${mermaidStateId(target.path)}`);
    for (const child of children) writeState(child, depth, out, edges, showSteps);
  }
  for (const edge of edges.get(scopeKey(node.path)) ?? []) out.push(`${pad}${edge}`);
}

/** Writes one state node: its declaration, and for compound/parallel nodes a block with its children. */
function writeState(node: StateNode, depth: number, out: string[], edges: Map<string, string[]>, showSteps: boolean): void {
  const pad = '  '.repeat(depth);
  const id = mermaidStateId(node.path);
  if (node.type === 'compound' || node.type === 'parallel') {
    out.push(`${pad}state "${label(node.key)}" as ${id} {`);
    writeChildren(node, depth + 1, out, edges, showSteps);
    out.push(`${pad}}`);
    return;
  }
  if (node.type === 'history') {
    out.push(`${pad}state "${node.history === 'deep' ? 'H*' : 'H'}" as ${id}`);
    return;
  }
  out.push(`${pad}state "${label(node.key)}" as ${id}`);
  if (showSteps)
    for (const invoke of node.invoke) out.push(`${pad}${id} : ${label(`step ${typeof invoke.src === 'string' ? invoke.src : invoke.id}`)}`);
  // A final state ends its parent: drawn as an edge to the parent's end marker.
  if (node.type === 'final') out.push(`${pad}${id} --> [*]`);
}

/** Every transition of the tree as a Mermaid edge line, grouped by the path of the block it belongs in. */
function collectEdges(root: StateNode): Map<string, string[]> {
  const edges = new Map<string, string[]>();
  const add = (source: StateNode, transition: Transition, text: string) => {
    const targets = transition.target?.length ? transition.target : [source];
    for (const target of targets) {
      const key = scopeKey(edgeScope(source, target));
      edges.set(key, [...(edges.get(key) ?? []), `${mermaidStateId(source.path)} --> ${mermaidStateId(target.path)} : ${label(text)}`]);
    }
  };
  const walk = (node: StateNode) => {
    const delays = new Map(node.after.map((t) => [t.eventType, t.delay]));
    for (const [eventType, transitions] of node.transitions) {
      for (const t of transitions) add(node, t, withGuard(eventLabel(eventType, delays.get(eventType)), t));
    }
    for (const t of node.always ?? []) add(node, t, withGuard('always', t));
    for (const child of Object.values(node.states)) walk(child);
  };
  walk(root);
  return edges;
}

/**
 * The path of the block an edge is written in: the deepest common ancestor of
 * both ends that is a strict ancestor of each and not a parallel node (a
 * parallel block's text belongs to its last region).
 */
function edgeScope(source: StateNode, target: StateNode): string[] {
  let n = 0;
  const max = Math.min(source.path.length - 1, target.path.length - 1);
  while (n < max && source.path[n] === target.path[n]) n++;
  let scope: StateNode | undefined = source;
  while (scope && scope.path.length > n) scope = scope.parent;
  while (scope && scope.type === 'parallel' && scope.parent) scope = scope.parent;
  return scope?.type === 'parallel' ? [] : (scope?.path ?? []);
}

const scopeKey = (path: readonly string[]) => path.join('\u0000');

/** How an event reads on an edge: invoke results and delays by name, the rest as is. */
function eventLabel(eventType: string, delay: unknown): string {
  if (eventType.startsWith(DONE_ACTOR)) return `done ${eventType.slice(DONE_ACTOR.length)}`;
  if (eventType.startsWith(ERROR_ACTOR)) return `error ${eventType.slice(ERROR_ACTOR.length)}`;
  if (eventType.startsWith(DONE_STATE)) return 'done';
  if (eventType.startsWith(AFTER)) return `after ${delayLabel(delay ?? eventType.slice(AFTER.length).split('.')[0])}`;
  return eventType;
}

/** A delay as written in the machine: a named delay by its name, a number of milliseconds in the largest whole unit. */
export function delayLabel(delay: unknown): string {
  if (typeof delay === 'string') return /^\d+$/.test(delay) ? delayLabel(Number(delay)) : delay;
  if (typeof delay !== 'number' || !Number.isFinite(delay)) return typeof delay === 'function' ? delay.name || 'delay' : 'delay';
  for (const [unit, ms] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['min', 60_000],
    ['s', 1000],
  ] as const) {
    if (delay >= ms && delay % ms === 0) return `${delay / ms}${unit}`;
  }
  return `${delay}ms`;
}

/** Appends `[guard]` when the transition is guarded. */
function withGuard(text: string, transition: Transition): string {
  const guard = guardName(transition.guard);
  return guard ? `${text} [${guard}]` : text;
}

/**
 * A guard's name: the referenced name, a parameterized guard's type, xstate's
 * `and`/`or`/`not` spelt out over their operands, or the function's name.
 */
export function guardName(guard: unknown): string | undefined {
  if (guard === undefined || guard === null) return undefined;
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'function') {
    const operands = (guard as { guards?: unknown }).guards;
    if (Array.isArray(operands)) {
      const names = operands.map((g) => guardName(g) ?? 'guard');
      if (guard.name === 'not') return `!${names[0]}`;
      if (guard.name === 'and' || guard.name === 'or') return `(${names.join(guard.name === 'and' ? ' && ' : ' || ')})`;
    }
    return guard.name || 'guard';
  }
  const type = (guard as { type?: unknown }).type;
  return typeof type === 'string' ? type : 'guard';
}

/**
 * Text safe inside a Mermaid label: characters that end or open syntax
 * (`"`, `:`, `;`, `#`, braces, line breaks) become Mermaid entity codes.
 */
export function label(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').replace(/["#:;{}<>]/g, (ch) => `#${ch.charCodeAt(0)};`);
}
