/**
 * Checks a JSON machine definition against XState's config shape and the
 * implementation catalog, collecting every problem with its JSON Pointer
 * before anything is built or registered.
 */
import type { ImplementationCatalog } from './catalog.ts';
import { compileExpression, ExpressionError } from './expressions.ts';
import { jsonErrorOffset } from './json-position.ts';
import { IssueList, lineColumn, type DefinitionIssue } from './issues.ts';
import { isExpr, isPlain, isRef } from './values.ts';

/** A definition: an XState v5 machine config in JSON (what Stately Studio imports and exports). */
export type MachineDefinition = Record<string, unknown> & { id: string; version?: string };

/** What the validator needs besides the catalog. */
export interface ValidateOptions {
  /** True for a registered machine id: `invoke.src` may name one (it becomes a child instance). */
  readonly machineExists?: (id: string) => boolean;
}

type Seg = string | number;
type Node = { path: string[]; at: Seg[]; config: Record<string, unknown>; parent?: Node; children: Map<string, Node> };

const ID_RE = /^[a-z0-9][a-z0-9._-]{0,99}$/i;
const KEY_RE = /^[^.#\s\p{Cc}][^.#\p{Cc}]{0,99}$/u;
const NODE_KEYS = new Set([
  'id',
  'type',
  'initial',
  'states',
  'on',
  'after',
  'always',
  'entry',
  'exit',
  'invoke',
  'tags',
  'description',
  'meta',
  'output',
  'history',
  'target',
  'onDone',
]);
const ROOT_KEYS = new Set([...NODE_KEYS, 'context', 'version', '$schema']);
const TRANSITION_KEYS = new Set(['target', 'guard', 'actions', 'reenter', 'description', 'meta']);
const INVOKE_KEYS = new Set(['id', 'src', 'input', 'onDone', 'onError', 'onSnapshot', 'systemId']);
const TYPES = new Set(['atomic', 'compound', 'parallel', 'final', 'history']);
const MAX_DEPTH = 32;

/**
 * Parses (when given text) and validates a definition.
 * @returns the definition, or every issue found.
 */
export function validateDefinition(
  source: unknown,
  catalog: ImplementationCatalog,
  options: ValidateOptions = {},
): { ok: true; definition: MachineDefinition } | { ok: false; issues: DefinitionIssue[] } {
  let value = source;
  if (typeof source === 'string') {
    try {
      value = JSON.parse(source);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      const offset = jsonErrorOffset(source);
      const where = offset >= 0 ? lineColumn(source, offset) : undefined;
      return { ok: false, issues: [{ code: 'invalid_json', path: '', message: `not valid JSON: ${msg}`, ...where }] };
    }
  }
  const issues = new IssueList();
  if (!isPlain(value)) {
    issues.add('invalid_value', [], 'a definition is a JSON object (an XState machine config)');
    return { ok: false, issues: issues.items };
  }
  new Checker(catalog, options, issues).run(value);
  return issues.empty ? { ok: true, definition: value as MachineDefinition } : { ok: false, issues: issues.items };
}

class Checker {
  private readonly ids = new Map<string, Node>();
  private readonly targets: { node: Node; target: string; at: Seg[] }[] = [];

  constructor(
    private readonly catalog: ImplementationCatalog,
    private readonly options: ValidateOptions,
    private readonly issues: IssueList,
  ) {}

  run(root: Record<string, unknown>): void {
    const id = root.id;
    if (typeof id !== 'string' || !ID_RE.test(id)) {
      this.issues.add('missing_id', ['id'], 'the machine needs an "id" of letters, digits, ".", "_" or "-" (at most 100)');
    }
    if (root.version !== undefined && (typeof root.version !== 'string' || !ID_RE.test(root.version))) {
      this.issues.add('invalid_value', ['version'], 'version is a string of letters, digits, ".", "_" or "-"');
    }
    if (root.context !== undefined) this.value(root.context, ['context'], 'context', true);
    const tree = this.node(root, [], [], undefined, typeof id === 'string' ? id : '(machine)', 0);
    if (!tree) return;
    for (const t of this.targets)
      if (!this.resolve(t.node, t.target))
        this.issues.add(
          'target_not_found',
          t.at,
          `no state "${t.target}" can be reached from state "${t.node.path.join('.') || '(root)'}"`,
        );
  }

  private node(config: unknown, path: string[], at: Seg[], parent: Node | undefined, rootId: string, depth: number): Node | undefined {
    if (!isPlain(config)) {
      this.issues.add('invalid_value', at, 'a state node is an object');
      return undefined;
    }
    if (depth > MAX_DEPTH) {
      this.issues.add('too_deep', at, `states nest at most ${MAX_DEPTH} levels`);
      return undefined;
    }
    const node: Node = { path, at, config, parent, children: new Map() };
    const allowed = path.length === 0 ? ROOT_KEYS : NODE_KEYS;
    for (const k of Object.keys(config))
      if (!allowed.has(k)) this.issues.add('unknown_key', [...at, k], `"${k}" is not a state node property`);
    const type = config.type;
    if (type !== undefined && (typeof type !== 'string' || !TYPES.has(type)))
      this.issues.add('invalid_value', [...at, 'type'], `type is one of ${[...TYPES].join(', ')}`);
    const ownId = path.length === 0 ? rootId : typeof config.id === 'string' ? config.id : `${rootId}.${path.join('.')}`;
    if (config.id !== undefined && path.length > 0 && (typeof config.id !== 'string' || !config.id))
      this.issues.add('invalid_value', [...at, 'id'], 'a state id is a non-empty string');
    if (this.ids.has(ownId)) this.issues.add('duplicate_id', [...at, 'id'], `the id "${ownId}" is used by two states`);
    this.ids.set(ownId, node);
    if (typeof config.id === 'string' && path.length > 0) this.ids.set(`${rootId}.${path.join('.')}`, node);

    const states = config.states;
    if (states !== undefined) {
      if (!isPlain(states)) this.issues.add('invalid_value', [...at, 'states'], 'states is an object of state nodes');
      else
        for (const [key, child] of Object.entries(states)) {
          if (!KEY_RE.test(key))
            this.issues.add('invalid_value', [...at, 'states', key], 'a state name has no ".", "#" or control characters (at most 100)');
          const c = this.node(child, [...path, key], [...at, 'states', key], node, rootId, depth + 1);
          // A broken child still exists as a name: no second complaint about initial or targets naming it.
          node.children.set(key, c ?? { path: [...path, key], at: [...at, 'states', key], config: {}, parent: node, children: new Map() });
        }
    }
    const hasChildren = node.children.size > 0;
    if (hasChildren && type !== 'parallel') {
      if (config.initial === undefined)
        this.issues.add(
          'missing_initial',
          [...at, 'initial'],
          `state "${path.join('.') || '(root)'}" has child states: name the one it starts in with "initial"`,
        );
      else if (typeof config.initial !== 'string' || !node.children.has(config.initial))
        this.issues.add(
          'initial_not_found',
          [...at, 'initial'],
          `initial "${String(config.initial)}" is not a child state (children: ${[...node.children.keys()].join(', ')})`,
        );
    } else if (config.initial !== undefined && !hasChildren) {
      this.issues.add('initial_not_found', [...at, 'initial'], 'initial names a child state, but this state has none');
    }
    if (config.on !== undefined) {
      if (!isPlain(config.on)) this.issues.add('invalid_value', [...at, 'on'], 'on is an object of event types to transitions');
      else for (const [ev, t] of Object.entries(config.on)) this.transitions(node, t, [...at, 'on', ev]);
    }
    if (config.after !== undefined) {
      if (!isPlain(config.after)) this.issues.add('invalid_value', [...at, 'after'], 'after is an object of delays to transitions');
      else
        for (const [delay, t] of Object.entries(config.after)) {
          if (delay.startsWith('=')) this.expression(delay.slice(1), [...at, 'after', delay]);
          else if (!/^\d{1,12}$/.test(delay) && !Object.hasOwn(this.catalog.delays, delay))
            this.issues.add(
              'unknown_delay',
              [...at, 'after', delay],
              `no delay "${delay}" is registered (use milliseconds, a registered delay name or "=<CEL>")`,
            );
          this.transitions(node, t, [...at, 'after', delay]);
        }
    }
    if (config.always !== undefined) this.transitions(node, config.always, [...at, 'always']);
    if (config.onDone !== undefined) this.transitions(node, config.onDone, [...at, 'onDone']);
    for (const k of ['entry', 'exit'] as const) if (config[k] !== undefined) this.actions(config[k], [...at, k]);
    if (config.invoke !== undefined) {
      const list = Array.isArray(config.invoke) ? config.invoke : [config.invoke];
      list.forEach((inv, i) => this.invoke(node, inv, Array.isArray(config.invoke) ? [...at, 'invoke', i] : [...at, 'invoke']));
    }
    if (config.tags !== undefined && !(Array.isArray(config.tags) && config.tags.every((t) => typeof t === 'string')))
      this.issues.add('invalid_value', [...at, 'tags'], 'tags is a list of strings');
    if (config.description !== undefined && typeof config.description !== 'string')
      this.issues.add('invalid_value', [...at, 'description'], 'description is a string');
    if (config.meta !== undefined && !isPlain(config.meta)) this.issues.add('invalid_value', [...at, 'meta'], 'meta is an object');
    if (config.output !== undefined) {
      if (path.length > 0 && type !== 'final')
        this.issues.add('invalid_value', [...at, 'output'], 'only the machine and final states have an output');
      this.value(config.output, [...at, 'output'], 'output');
    }
    if (type === 'history' && config.target !== undefined) this.target(node, config.target, [...at, 'target']);
    return node;
  }

  private transitions(node: Node, value: unknown, at: Seg[]): void {
    const list = Array.isArray(value) ? value : [value];
    list.forEach((t, i) => {
      const here = Array.isArray(value) ? [...at, i] : at;
      if (typeof t === 'string') {
        this.target(node, t, here);
        return;
      }
      if (t === null || t === undefined) return;
      if (!isPlain(t)) {
        this.issues.add('invalid_value', here, 'a transition is a target string or an object with target, guard, actions');
        return;
      }
      for (const k of Object.keys(t))
        if (!TRANSITION_KEYS.has(k)) this.issues.add('unknown_key', [...here, k], `"${k}" is not a transition property`);
      if (t.target !== undefined) this.target(node, t.target, [...here, 'target']);
      if (t.guard !== undefined) this.guard(t.guard, [...here, 'guard']);
      if (t.actions !== undefined) this.actions(t.actions, [...here, 'actions']);
      if (t.reenter !== undefined && typeof t.reenter !== 'boolean')
        this.issues.add('invalid_value', [...here, 'reenter'], 'reenter is true or false');
    });
  }

  private target(node: Node, value: unknown, at: Seg[]): void {
    const list = Array.isArray(value) ? value : [value];
    list.forEach((t, i) => {
      const here = Array.isArray(value) ? [...at, i] : at;
      if (typeof t !== 'string' || t === '') {
        this.issues.add('invalid_value', here, 'a target is a state name, ".child", "#id" or "#id.path"');
        return;
      }
      this.targets.push({ node, target: t, at: here });
    });
  }

  /** XState's target resolution: `#id[.path]`, `.child[.path]`, else a sibling path. */
  private resolve(node: Node, target: string): Node | undefined {
    const walk = (from: Node | undefined, segs: string[]) => segs.reduce<Node | undefined>((n, s) => n?.children.get(s), from);
    if (target.startsWith('#')) {
      const whole = this.ids.get(target.slice(1));
      if (whole) return whole;
      const [head, ...rest] = target.slice(1).split('.');
      return walk(this.ids.get(head!), rest);
    }
    if (target.startsWith('.')) return walk(node, target.slice(1).split('.'));
    return node.parent ? walk(node.parent, target.split('.')) : undefined;
  }

  private guard(value: unknown, at: Seg[]): void {
    const ref = typeof value === 'string' ? { type: value } : value;
    if (!isPlain(ref) || typeof ref.type !== 'string') {
      this.issues.add('invalid_value', at, 'a guard is a name or { "type": name, "params": {...} }');
      return;
    }
    for (const k of Object.keys(ref))
      if (k !== 'type' && k !== 'params') this.issues.add('unknown_key', [...at, k], `"${k}" is not a guard property`);
    const impl = this.catalog.guards[ref.type];
    if (!Object.hasOwn(this.catalog.guards, ref.type) || !impl) {
      this.issues.add('unknown_guard', typeof value === 'string' ? at : [...at, 'type'], `no guard "${ref.type}" is registered`);
      return;
    }
    this.params(impl.params, ref.params, typeof value === 'string' ? at : [...at, 'params']);
    if ((ref.type === 'expr' || ref.type === 'when') && isPlain(ref.params) && typeof ref.params.expr === 'string')
      this.expression(ref.params.expr, [...at, 'params', 'expr']);
  }

  private actions(value: unknown, at: Seg[]): void {
    const list = Array.isArray(value) ? value : [value];
    list.forEach((a, i) => {
      const here = Array.isArray(value) ? [...at, i] : at;
      const ref = typeof a === 'string' ? { type: a } : a;
      if (!isPlain(ref) || typeof ref.type !== 'string') {
        this.issues.add('invalid_value', here, 'an action is a name or { "type": name, "params": {...} }');
        return;
      }
      for (const k of Object.keys(ref))
        if (k !== 'type' && k !== 'params') this.issues.add('unknown_key', [...here, k], `"${k}" is not an action property`);
      const impl = this.catalog.actions[ref.type];
      if (!Object.hasOwn(this.catalog.actions, ref.type) || !impl) {
        this.issues.add('unknown_action', typeof a === 'string' ? here : [...here, 'type'], `no action "${ref.type}" is registered`);
        return;
      }
      this.params(impl.params, ref.params, typeof a === 'string' ? here : [...here, 'params']);
      if (ref.params !== undefined) this.value(ref.params, [...here, 'params'], 'params');
    });
  }

  private invoke(node: Node, value: unknown, at: Seg[]): void {
    if (!isPlain(value)) {
      this.issues.add('invalid_value', at, 'an invoke is an object with src');
      return;
    }
    for (const k of Object.keys(value))
      if (!INVOKE_KEYS.has(k)) this.issues.add('unknown_key', [...at, k], `"${k}" is not an invoke property`);
    const src = value.src;
    if (typeof src !== 'string') {
      this.issues.add('invalid_value', [...at, 'src'], 'src names a registered actor (step) or machine');
      return;
    }
    const actor = Object.hasOwn(this.catalog.actors, src) ? this.catalog.actors[src] : undefined;
    if (!actor && !this.options.machineExists?.(src))
      this.issues.add('unknown_actor', [...at, 'src'], `no step or machine "${src}" is registered`);
    if (value.id !== undefined && (typeof value.id !== 'string' || !/^[A-Za-z0-9._-]{1,100}$/.test(value.id)))
      this.issues.add('invalid_value', [...at, 'id'], 'an invoke id is letters, digits, ".", "_" or "-"');
    if (value.input !== undefined) {
      this.value(value.input, [...at, 'input'], 'input');
      if (actor?.input && !isExpr(value.input) && !isRef(value.input) && !JSON.stringify(value.input).includes('"$'))
        this.params(actor.input, value.input, [...at, 'input']);
    }
    for (const k of ['onDone', 'onError', 'onSnapshot'] as const) if (value[k] !== undefined) this.transitions(node, value[k], [...at, k]);
  }

  private params(
    schema: { safeParse(v: unknown): { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } } } | undefined,
    params: unknown,
    at: Seg[],
  ): void {
    if (!schema) return;
    const r = schema.safeParse(params);
    if (r.success) return;
    for (const i of r.error?.issues ?? [])
      this.issues.add('invalid_params', [...at, ...i.path.map((p) => (typeof p === 'number' ? p : String(p)))], i.message);
  }

  /** Values that may hold `$expr` / `$ref`: expressions must parse, references must name a mapper. */
  private value(v: unknown, at: Seg[], what: string, root = false, depth = 0): void {
    if (depth > 64) {
      this.issues.add('too_deep', at, `${what} nests at most 64 levels`);
      return;
    }
    if (isExpr(v)) {
      this.expression(v.$expr, [...at, '$expr']);
      return;
    }
    if (isRef(v)) {
      if (!Object.hasOwn(this.catalog.mappers, v.$ref))
        this.issues.add('unknown_mapper', [...at, '$ref'], `no mapper "${v.$ref}" is registered`);
      return;
    }
    if (typeof v === 'string' && (v.includes('\u0000') || !(v as string & { isWellFormed(): boolean }).isWellFormed())) {
      this.issues.add('invalid_value', at, 'strings hold no NUL characters or lone surrogates');
      return;
    }
    if (typeof v === 'number' && !Number.isFinite(v)) {
      this.issues.add('invalid_value', at, 'numbers are finite');
      return;
    }
    if (root && !isPlain(v)) {
      this.issues.add('invalid_value', at, `${what} is an object`);
      return;
    }
    if (Array.isArray(v)) v.forEach((x, i) => this.value(x, [...at, i], what, false, depth + 1));
    else if (isPlain(v)) for (const [k, x] of Object.entries(v)) this.value(x, [...at, k], what, false, depth + 1);
  }

  private expression(source: string, at: Seg[]): void {
    try {
      compileExpression(source);
    } catch (e) {
      this.issues.add('invalid_expression', at, e instanceof ExpressionError ? `CEL: ${e.message}` : String(e));
    }
  }
}
