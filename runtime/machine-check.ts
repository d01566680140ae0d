import {
  type AnyStateMachine,
  fromCallback,
  fromEventObservable,
  fromObservable,
  fromPromise,
  fromTransition,
  type Subscribable,
} from 'xstate';
import { RuntimeError } from './errors.ts';
import { stepPolicyOf } from './step.ts';

/**
 * What registration checks: every XState feature a machine uses either runs
 * in the runtime exactly as in `createActor`, or the machine is refused here
 * with `unsupported_machine`, naming the machine, the state and the feature
 * and what to write instead. Nothing is registered then.
 */

/** Kinds of actor logic, told apart by the logic creator that made them. */
export type LogicKind = 'machine' | 'step' | 'promise' | 'callback' | 'observable' | 'eventObservable' | 'transition' | 'unknown';

const never = { subscribe: () => ({ unsubscribe() {} }) } as unknown as Subscribable<never>;
// Each creator returns a fresh object, but its `transition` is always the same source text.
const CREATORS: [Exclude<LogicKind, 'machine' | 'step' | 'unknown'>, string][] = [
  ['promise', String(fromPromise(async () => undefined).transition)],
  ['callback', String(fromCallback(() => {}).transition)],
  ['observable', String(fromObservable(() => never).transition)],
  ['eventObservable', String(fromEventObservable(() => never).transition)],
  ['transition', String(fromTransition((s) => s, 0).transition)],
];

/** The kind of an actor logic object. */
export function logicKind(logic: unknown): LogicKind {
  if (!logic || typeof logic !== 'object') return 'unknown';
  if ('root' in logic && 'getPersistedSnapshot' in logic && 'config' in logic) return 'machine';
  if (stepPolicyOf(logic)) return 'step';
  const source = String((logic as { transition?: unknown }).transition);
  return CREATORS.find(([, s]) => s === source)?.[0] ?? 'unknown';
}

/**
 * The logic an invoke or spawn `src` names: registered in `setup({ actors })`,
 * or inline on a state node (`xstate.invoke.<i>.<node id>`).
 */
export function logicOf(machine: AnyStateMachine, src: string): unknown {
  const inline = /^xstate\.invoke\.(\d+)\.(.*)$/.exec(src);
  if (!inline) return machine.implementations.actors?.[src];
  try {
    const node = machine.getStateNodeById(inline[2]!);
    const config = node.config.invoke;
    return (Array.isArray(config) ? config[Number(inline[1])] : config)?.src;
  } catch {
    return undefined;
  }
}

/** What the runtime does instead of each refused logic kind. */
const REFUSED_LOGIC: Partial<Record<LogicKind, string>> = {
  callback: 'fromCallback actors (sendBack/receive) have no durable form; model the conversation as a child machine, or the work as a step',
  observable: 'fromObservable actors have no durable form; model each value as an event sent to the instance, or the work as a step',
  eventObservable: 'fromEventObservable actors have no durable form; send each event to the instance through runtime.send',
  transition: 'fromTransition actors have no durable form; write the reducer as a child machine',
  unknown: 'this actor logic is not a machine, a step or fromPromise logic; use one of those',
};

/** A machine's invoked and spawned actors, found from its state nodes as well as from `setup({ actors })`. */
export interface ActorUse {
  readonly src: string;
  readonly logic: unknown;
  readonly kind: LogicKind;
  /** State path using it, or `(setup)` for logic declared only in `setup({ actors })`. */
  readonly where: string;
}

/** Options of {@link checkMachine}. */
export interface CheckOptions {
  readonly allowCustomActions?: boolean;
  /** Fixed delays (`after: { 5: … }`, `raise(e, { delay: 5 })`, numeric named delays) below this are refused. */
  readonly minDelayMs?: number;
}

/**
 * Checks a machine (and, through `children`, the machines it invokes) and
 * returns its actor uses.
 * @throws RuntimeError `unsupported_machine` on the first feature the runtime cannot run identically.
 */
export function checkMachine(machine: AnyStateMachine, options: CheckOptions = {}): ActorUse[] {
  const uses = new Map<string, ActorUse>();
  const use = (src: string, logic: unknown, where: string) => {
    const kind = logicKind(logic);
    const why = REFUSED_LOGIC[kind];
    if (why) throw unsupported(machine, where, `actor "${src}"`, why);
    if (!uses.has(src)) uses.set(src, { src, logic, kind, where });
  };
  if (callsSpawn((machine.config as { context?: unknown }).context)) throw spawnInAssign(machine, '(root) context');
  for (const node of allNodes(machine.root)) {
    const where = node.path.join('.') || '(root)';
    for (const inv of node.invoke) {
      if (inv.systemId !== undefined) {
        throw unsupported(
          machine,
          where,
          `systemId "${inv.systemId}" on invoke "${inv.id}"`,
          `address the actor by its invoke id: sendTo('${inv.id}', ...)`,
        );
      }
      use(inv.src, logicOf(machine, inv.src), where);
    }
    for (const action of nodeActions(node)) checkAction(machine, where, action, options, use);
  }
  // Logic declared but not seen on a state node may still be spawned by name from enqueueActions.
  for (const [src, logic] of Object.entries(machine.implementations.actors ?? {})) if (!uses.has(src)) use(src, logic, '(setup)');
  return [...uses.values()];
}

type Use = (src: string, logic: unknown, where: string) => void;

function checkAction(machine: AnyStateMachine, where: string, action: unknown, options: CheckOptions, use: Use): void {
  const named = typeof action === 'string' ? action : typeof action === 'object' && action ? (action as { type?: string }).type : undefined;
  const impl = typeof action === 'function' ? action : named ? machine.implementations.actions?.[named] : undefined;
  if (!impl) return; // an unknown named action does nothing in XState either (it warns)
  const type = (impl as { type?: string }).type;
  const builtin = typeof (impl as { resolve?: unknown }).resolve === 'function';
  if (builtin && type === 'xstate.spawnChild') {
    const src = (impl as { src?: unknown }).src;
    if (typeof src !== 'string') {
      throw unsupported(
        machine,
        where,
        'spawnChild with inline logic',
        "declare the logic in setup({ actors: { name: logic } }) and write spawnChild('name', { id })",
      );
    }
    if ((impl as { systemId?: unknown }).systemId !== undefined) {
      throw unsupported(machine, where, `systemId on spawnChild("${src}")`, 'address the actor by its id');
    }
    use(src, logicOf(machine, src), where);
    return;
  }
  if (builtin && (type === 'xstate.raise' || type === 'xstate.sendTo')) {
    checkFixedDelay(machine, where, (impl as { delay?: unknown }).delay, options.minDelayMs ?? 0);
    return;
  }
  if (builtin && (type === 'xstate.assign' || type === 'xstate.enqueueActions')) {
    const code = type === 'xstate.assign' ? (impl as { assignment?: unknown }).assignment : (impl as { collect?: unknown }).collect;
    if (callsSpawn(code)) throw spawnInAssign(machine, where);
    return;
  }
  if (builtin && type !== 'xstate.log') return;
  if (options.allowCustomActions) return;
  const label = type === 'xstate.log' ? 'the log action' : `custom action "${named ?? (impl as { name?: string }).name ?? 'inline'}"`;
  throw unsupported(
    machine,
    where,
    label,
    'the runtime does not execute custom actions or log (they would run again on every retry of a commit, and never after a crash); ' +
      'do side effects in a step (an invoked step() actor), or register with { allowCustomActions: true } to have them skipped knowingly',
  );
}

/**
 * A delay known when the machine is registered (a number, or the name of a
 * numeric delay in `setup({ delays })`) must not be below the runtime's
 * minimum: such a timer on a state that re-enters itself would write history
 * rows as fast as the database takes them. Delays computed at run time are
 * checked when they are scheduled (the instance then ends in error).
 */
function checkFixedDelay(machine: AnyStateMachine, where: string, delay: unknown, minDelayMs: number): void {
  const named = typeof delay === 'string' ? machine.implementations.delays?.[delay] : undefined;
  const ms = typeof delay === 'number' ? delay : typeof named === 'number' ? named : undefined;
  if (ms === undefined || ms >= minDelayMs) return;
  const label = typeof delay === 'string' ? `delay "${delay}" (${ms} ms)` : `a delay of ${ms} ms`;
  throw unsupported(
    machine,
    where,
    label,
    `delays below the runtime's minimum of ${minDelayMs} ms are refused (runtime option minDelayMs, STATEKEEPER_MIN_DELAY_MS); ` +
      'use a longer delay',
  );
}

/**
 * Whether an assignment (a function, or an object of property assigners) calls the `spawn` its
 * arguments carry: read from the source, as nothing else tells before it runs. A spawn the source
 * hides (through a helper) is still caught when the transition runs, ending the instance in `error`.
 */
function callsSpawn(code: unknown): boolean {
  if (typeof code === 'function') return /\bspawn\b/.test(Function.prototype.toString.call(code));
  if (code && typeof code === 'object') return Object.values(code).some(callsSpawn);
  return false;
}

/** The refusal of `spawn()` inside `assign` (or a context factory): what XState spawns there lives only in memory. */
function spawnInAssign(machine: AnyStateMachine, where: string): RuntimeError {
  return unsupported(
    machine,
    where,
    'spawn() inside assign()',
    'an actor spawned inside assign is held in the context, which the runtime cannot persist; ' +
      "spawn it with the spawnChild('name', { id }) action and address it by that id (sendTo('id', ...))",
  );
}

/** Every action a state node declares: entry, exit, and those of its transitions (events, always, after, invoke results). */
function nodeActions(node: StateNodeLike): unknown[] {
  const transitions = [...node.transitions.values()].flat();
  return [...node.entry, ...node.exit, ...transitions.flatMap((t) => t.actions), ...(node.always ?? []).flatMap((t) => t.actions)];
}

interface StateNodeLike {
  path: string[];
  states: Record<string, StateNodeLike>;
  invoke: { src: string; id: string; systemId?: string }[];
  entry: unknown[];
  exit: unknown[];
  transitions: Map<string, { actions: unknown[] }[]>;
  always?: { actions: unknown[] }[];
}

function allNodes(root: unknown): StateNodeLike[] {
  const out: StateNodeLike[] = [];
  const visit = (n: StateNodeLike) => {
    out.push(n);
    for (const child of Object.values(n.states)) visit(child);
  };
  visit(root as StateNodeLike);
  return out;
}

/** The refusal: names the machine, the state path and the feature, and says what to write instead. */
export function unsupported(machine: AnyStateMachine, where: string, feature: string, instead: string): RuntimeError {
  return new RuntimeError(
    'unsupported_machine',
    `Machine "${machine.id}" cannot be registered: ${feature} in state ${where} is not supported by the runtime; ${instead}.`,
    { machine: machine.id, state: where, feature },
  );
}
