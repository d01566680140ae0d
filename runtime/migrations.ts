/**
 * Snapshot migrations between versions of one machine: registered functions or declarative state maps,
 * chained along the registered versions (`1 → 2 → 3`) when no direct one is registered.
 *
 * @remarks A migration only says what the new state value and context are. Which open effects survive,
 * which are cancelled and what the new state needs besides is decided by `migration-plan.ts`, and the
 * result is checked by restoring it with the target machine, as the runtime restores after a restart.
 */
import { RuntimeError } from './errors.ts';

/** What a migration function is given: the stored snapshot, its context decoded (Dates and Errors rebuilt). */
export interface MigrationSnapshot {
  readonly value: unknown;
  readonly context: unknown;
  readonly status: string;
  /** The version the snapshot is on while this step of the chain runs. */
  readonly version: string;
}

/** The state value and context a migration produces. */
export interface MigrationResult {
  readonly value: unknown;
  readonly context: unknown;
}

/**
 * A snapshot migration of machine `machine` from version `from` to version `to`: either a function, or a
 * declarative `stateMap` (`'old.path' → 'new.path'`, prefixes map their descendants) with an optional
 * `context` function. Unmapped state paths and an absent `context` function keep what they were.
 *
 * @example
 * ```ts
 * runtime.registerMigration({ machine: 'order', from: '1', to: '2',
 *   stateMap: { awaitingShipment: 'shipping.waiting' }, context: (c) => ({ ...c, currency: 'EUR' }) });
 * ```
 */
export type MigrationDefinition = {
  readonly machine: string;
  readonly from: string;
  readonly to: string;
  readonly description?: string;
} & (
  | { readonly migrate: (snapshot: MigrationSnapshot) => MigrationResult; readonly stateMap?: never; readonly context?: never }
  | {
      readonly stateMap: Readonly<Record<string, string>>;
      readonly context?: (context: any, snapshot: MigrationSnapshot) => unknown;
      readonly migrate?: never;
    }
);

/** How an instance gets from its version to the target: the registered steps, or none (`identity`). */
export interface MigrationPath {
  readonly kind: 'registered' | 'identity';
  /** `from→to` of each registered step applied, in order. */
  readonly steps: readonly string[];
}

const VERSION_RE = /^[a-z0-9][a-z0-9._-]{0,99}$/i;
const PATH_RE = /^[^.\s]+(\.[^.\s]+)*$/;

/** Registered migrations by machine id. */
export class MigrationRegistry {
  private readonly byMachine = new Map<string, MigrationDefinition[]>();

  /** @throws RuntimeError `invalid_argument` for a malformed definition, `machine_already_registered` for a second one of a pair. */
  register(def: MigrationDefinition): void {
    const fail = (problem: string) => RuntimeError.invalidArgument('registerMigration', problem);
    if (!def || typeof def !== 'object') throw fail('expected { machine, from, to, migrate } or { machine, from, to, stateMap }');
    if (typeof def.machine !== 'string' || !def.machine) throw fail('machine must be the machine id');
    for (const k of ['from', 'to'] as const)
      if (typeof def[k] !== 'string' || !VERSION_RE.test(def[k]))
        throw fail(`${k} must be a version string (got ${JSON.stringify(def[k])})`);
    if (def.from === def.to) throw fail(`from and to are both "${def.from}"`);
    const hasFn = typeof def.migrate === 'function';
    const hasMap = def.stateMap !== undefined;
    if (hasFn === hasMap) throw fail('give either a migrate function or a stateMap (with an optional context function), not both');
    if (hasMap) {
      if (!def.stateMap || typeof def.stateMap !== 'object' || Array.isArray(def.stateMap)) throw fail('stateMap must be an object');
      for (const [from, to] of Object.entries(def.stateMap))
        if (!PATH_RE.test(from) || typeof to !== 'string' || !PATH_RE.test(to))
          throw fail(`stateMap entry ${JSON.stringify(from)} → ${JSON.stringify(to)} must map a dotted state path to a dotted state path`);
      if (def.context !== undefined && typeof def.context !== 'function') throw fail('context must be a function');
    }
    const list = this.byMachine.get(def.machine) ?? [];
    if (list.some((m) => m.from === def.from && m.to === def.to))
      throw new RuntimeError(
        'machine_already_registered',
        `A migration of ${def.machine} from ${def.from} to ${def.to} is already registered.`,
        { machine: def.machine, from: def.from, to: def.to },
      );
    this.byMachine.set(def.machine, [...list, def]);
  }

  /** Registered migrations of a machine. */
  list(machineId: string): readonly MigrationDefinition[] {
    return this.byMachine.get(machineId) ?? [];
  }

  /**
   * The shortest chain of registered migrations from `from` to `to` (breadth first), or `undefined` when
   * none leads there.
   */
  path(machineId: string, from: string, to: string): MigrationDefinition[] | undefined {
    const list = this.list(machineId);
    const queue: { at: string; chain: MigrationDefinition[] }[] = [{ at: from, chain: [] }];
    const seen = new Set([from]);
    while (queue.length) {
      const { at, chain } = queue.shift()!;
      if (at === to) return chain;
      for (const m of list)
        if (m.from === at && !seen.has(m.to)) {
          seen.add(m.to);
          queue.push({ at: m.to, chain: [...chain, m] });
        }
    }
    return undefined;
  }
}

/** Describes a chain for reports. */
export function describePath(chain: readonly MigrationDefinition[] | undefined): MigrationPath {
  return chain?.length ? { kind: 'registered', steps: chain.map((m) => `${m.from}→${m.to}`) } : { kind: 'identity', steps: [] };
}

/**
 * Applies a chain to a snapshot's value and context. A migration that throws or returns no value is
 * reported as `migration_failed` by the caller (the error is rethrown here with the step named).
 */
export function applyChain(chain: readonly MigrationDefinition[], start: MigrationSnapshot): MigrationResult {
  let current: MigrationSnapshot = start;
  for (const m of chain) {
    let out: MigrationResult;
    try {
      if (m.migrate) out = m.migrate(structuredClone(current));
      else {
        const value = mapStateValue(current.value, m.stateMap!);
        out = { value, context: m.context ? m.context(structuredClone(current.context), structuredClone(current)) : current.context };
      }
    } catch (e) {
      throw new MigrationStepError(`${m.from}→${m.to}`, (e as Error)?.message ?? String(e), e);
    }
    if (!out || typeof out !== 'object' || out.value === undefined || out.value === null)
      throw new MigrationStepError(`${m.from}→${m.to}`, 'the migration returned no state value');
    current = { ...current, value: out.value, context: out.context, version: m.to };
  }
  return { value: current.value, context: current.context };
}

/** A migration function that threw or returned nothing usable. */
export class MigrationStepError extends Error {
  override name = 'MigrationStepError';
  constructor(
    readonly step: string,
    problem: string,
    cause?: unknown,
  ) {
    super(`migration ${step} failed: ${problem}`, { cause });
  }
}

/** Leaf paths of a state value: `{ a: { b: 'c' }, d: 'e' }` → `['a.b.c', 'd.e']`. */
export function leafPaths(value: unknown, prefix: string[] = []): string[] {
  if (typeof value === 'string') return [[...prefix, value].join('.')];
  if (!value || typeof value !== 'object') return [];
  const entries = Object.entries(value);
  if (!entries.length) return prefix.length ? [prefix.join('.')] : [];
  return entries.flatMap(([k, v]) => leafPaths(v, [...prefix, k]));
}

/**
 * Maps each leaf path by the longest `stateMap` key that is the path or a prefix of it
 * (`'a' → 'x'` maps `a.b` to `x.b`), then builds the state value again.
 */
export function mapStateValue(value: unknown, stateMap: Readonly<Record<string, string>>): unknown {
  const mapped = leafPaths(value).map((path) => {
    const key = Object.keys(stateMap)
      .filter((k) => path === k || path.startsWith(`${k}.`))
      .sort((a, b) => b.length - a.length)[0];
    return key === undefined ? path : stateMap[key] + path.slice(key.length);
  });
  return fromLeafPaths(mapped);
}

/** The state value of a set of leaf paths (`['a.b', 'a.c']` of a parallel `a` → `{ a: { b: {}, c: {} } }` collapsed). */
export function fromLeafPaths(paths: readonly string[]): unknown {
  if (paths.length === 1 && !paths[0]!.includes('.')) return paths[0];
  const root: Record<string, any> = {};
  for (const p of paths) {
    const parts = p.split('.');
    let node = root;
    parts.forEach((part, i) => {
      node[part] ??= {};
      if (i < parts.length - 1) node = node[part];
    });
  }
  // A node with no children is a leaf: written as the string its parent maps to, when it is its parent's only child.
  const collapse = (node: Record<string, any>): unknown => {
    const keys = Object.keys(node);
    if (keys.length === 1 && Object.keys(node[keys[0]!]).length === 0) return keys[0];
    return Object.fromEntries(keys.map((k) => [k, Object.keys(node[k]).length ? collapse(node[k]) : {}]));
  };
  return collapse(root);
}
