import type { AnyStateMachine } from 'xstate';
import { stepPolicyOf, type StepPolicy } from './step.ts';
import type { StepFn, StepImplementation, StepRegistry } from './step-types.ts';
import { RuntimeError } from './errors.ts';
import { checkRetentionPolicy, type RetentionPolicy } from './retention.ts';
import { type ActorUse, checkMachine, unsupported } from './machine-check.ts';
import { taskProblems } from './tasks.ts';
import type { StepContext } from './step-types.ts';
import { OPERATOR_EVENTS, type OperatorEvents } from './operator-events.ts';
import { isStandardSchema, type StandardSchemaV1 } from './standard-schema.ts';
import type { StepViewSource } from './workflow-status.ts';
import { compileCorrelation, type CompiledCorrelation, type CorrelationSpec } from './correlation.ts';

/** A machine registered under `id@version`. */
export interface RegisteredMachine {
  readonly id: string;
  readonly version: string;
  readonly ref: string;
  readonly machine: AnyStateMachine;
  readonly description?: string;
  /** Checked by `start` before anything is written. */
  readonly inputSchema?: StandardSchemaV1;
  /** Checked against the context of an instance migrated to this version (see `migration-plan.ts`). */
  readonly contextSchema?: StandardSchemaV1;
  /** The events `cancel` and `retry` send. */
  readonly operatorEvents: OperatorEvents;
  /** How the instance's steps are shown; the default lists each invoked step from its effect rows. */
  readonly stepView?: StepViewSource;
  /** Correlation keys read from the context at each commit (see `correlation.ts`). */
  readonly correlation?: CompiledCorrelation;
  /** Retention of its finished instances (see {@link RegisterOptions.retention}). */
  readonly retention?: RetentionPolicy | false;
}

/** Options of `runtime.register`. */
export interface RegisterOptions {
  /** Version this definition is registered as; instances keep the version they started with. */
  readonly version: string;
  readonly description?: string;
  /** Step implementations by actor name (merged into the runtime's step registry). */
  readonly steps?: StepRegistry;
  /**
   * Accept custom actions and `log` knowingly: the runtime does not execute them
   * (side effects belong in steps). Without it such a machine is refused.
   */
  readonly allowCustomActions?: boolean;
  /**
   * Schema of the start input, any Standard Schema (zod, valibot, arktype…):
   * `start` refuses input that fails it with `input_invalid` and its issues.
   * The input is stored as given (a schema's defaults or transforms are not applied).
   */
  readonly inputSchema?: StandardSchemaV1;
  /**
   * Schema of the context (any Standard Schema): an instance migrated to this version whose migrated context
   * fails it is refused with `migration_context_invalid` and left as it was.
   */
  readonly contextSchema?: StandardSchemaV1;
  /** Other names for the events the operator commands send (default {@link OPERATOR_EVENTS}). */
  readonly operatorEvents?: Partial<OperatorEvents>;
  /** Step statuses for the API and dashboard (the saga library gives `sagaStepView`). */
  readonly stepView?: StepViewSource;
  /**
   * Business keys this machine's instances are found by (`runtime.correlate`, `POST /v1/correlate`):
   * key names to a dotted context path or a pure function of the context, e.g.
   * `{ username: 'input.subscriber.username', order: (ctx) => ctx.orderId }`. Checked here; the
   * values are indexed in the same commit as each state change that changes them.
   */
  readonly correlation?: CorrelationSpec;
  /**
   * How long finished instances of this machine are kept (`{ days, mode: 'delete' | 'archive' }`), or `false` to keep
   * them forever whatever the runtime's default; absent: the default (see `retention.ts`).
   */
  readonly retention?: RetentionPolicy | false;
}

const ID_RE = /^[a-z0-9][a-z0-9._-]{0,99}$/i;

/** Values of the optional options that would only fail later, at a start or an operator command. */
function checkRegisterOptions(options: RegisterOptions): void {
  if (options.inputSchema !== undefined && !isStandardSchema(options.inputSchema)) {
    throw RuntimeError.invalidArgument('register', 'inputSchema must implement Standard Schema v1 (a zod, valibot or arktype schema)');
  }
  if (options.contextSchema !== undefined && !isStandardSchema(options.contextSchema)) {
    throw RuntimeError.invalidArgument('register', 'contextSchema must implement Standard Schema v1 (a zod, valibot or arktype schema)');
  }
  if (options.retention !== undefined && options.retention !== false) checkRetentionPolicy('register', options.retention);
  if (options.stepView !== undefined && typeof options.stepView !== 'function') {
    throw RuntimeError.invalidArgument('register', 'stepView must be a function');
  }
  for (const [k, v] of Object.entries(options.operatorEvents ?? {})) {
    if (!['cancel', 'retry'].includes(k) || typeof v !== 'string' || v.length === 0 || v.startsWith('xstate.')) {
      throw RuntimeError.invalidArgument('register', `operatorEvents.${k} must be "cancel" or "retry" mapped to an event type`);
    }
  }
}

/** Machines by `id@version` and step implementations by name. */
export class Registry {
  /** @param minDelayMs fixed delays below this are refused at registration (see `checkMachine`). */
  constructor(private readonly minDelayMs = 0) {}

  private readonly machines = new Map<string, Map<string, RegisteredMachine>>();
  private readonly steps = new Map<string, StepImplementation>();
  private readonly promiseSteps = new Map<string, { creator: unknown; impl: StepImplementation }>();
  private readonly uses = new WeakMap<AnyStateMachine, ActorUse[]>();

  register(machine: AnyStateMachine, options: RegisterOptions): RegisteredMachine {
    if (
      !machine ||
      typeof machine !== 'object' ||
      typeof (machine as { transition?: unknown }).transition !== 'function' ||
      !(machine as { root?: unknown }).root
    ) {
      throw RuntimeError.invalidArgument('register', 'expected an XState machine (from setup(...).createMachine(...))');
    }
    const version = options?.version;
    if (typeof version !== 'string' || !ID_RE.test(version)) {
      throw RuntimeError.invalidArgument(
        'register',
        `version must be a non-empty string of letters, digits, ".", "_" or "-" (got ${JSON.stringify(version)})`,
      );
    }
    if (!ID_RE.test(machine.id) || machine.id === '(machine)') {
      throw RuntimeError.invalidArgument(
        'register',
        `the machine needs an explicit id of letters, digits, ".", "_" or "-" (got "${machine.id}")`,
      );
    }
    const existing = this.machines.get(machine.id)?.get(version);
    if (existing && existing.machine !== machine) {
      throw new RuntimeError(
        'machine_already_registered',
        `Machine ${machine.id}@${version} is already registered with another definition; register a new version instead.`,
        { machine: `${machine.id}@${version}` },
      );
    }
    checkRegisterOptions(options);
    const correlation = compileCorrelation(options.correlation);
    // Check the machine and every machine it invokes before registering anything.
    const plan = this.checkTree(machine, options.allowCustomActions === true);
    for (const { machine: m } of plan) {
      const problems = taskProblems(m);
      if (problems.length)
        throw new RuntimeError(
          'invalid_task',
          `Machine "${m.id}" declares ${problems.length} malformed task(s); first, state "${problems[0]![0]}": ${problems[0]![1]}.`,
          { machine: m.id, problems: problems.map(([state, problem]) => ({ state, problem })) },
        );
    }
    // Every step the machine (or a child machine) invokes needs an implementation now, not when first reached.
    const missing = this.stepsWithout(plan, options.steps).map((name) => `${machine.id}@${version}: ${name}`);
    if (missing.length) throw missingStepsError(missing);
    if (options.steps) this.registerSteps(options.steps);
    for (const { machine: m, uses } of plan) {
      const versions = this.machines.get(m.id) ?? new Map<string, RegisteredMachine>();
      if (m === machine || !versions.size)
        versions.set(version, {
          id: m.id,
          version,
          ref: `${m.id}@${version}`,
          machine: m,
          ...(m === machine
            ? {
                description: options.description,
                inputSchema: options.inputSchema,
                contextSchema: options.contextSchema,
                stepView: options.stepView,
                retention: options.retention,
                correlation,
                operatorEvents: { ...OPERATOR_EVENTS, ...options.operatorEvents },
              }
            : { operatorEvents: OPERATOR_EVENTS }),
        });
      this.machines.set(m.id, versions);
      this.uses.set(m, uses);
      for (const u of uses) if (u.kind === 'promise') this.addPromiseStep(m, u);
      for (const u of uses) if (u.kind === 'machine') exposeInline(m, u);
    }
    return this.find(machine.id, version)!;
  }

  /**
   * Checks a machine as {@link register} would, registering nothing.
   * @throws RuntimeError `unsupported_machine` naming the first feature the runtime cannot run.
   */
  check(machine: AnyStateMachine, options: { allowCustomActions?: boolean } = {}): void {
    this.checkTree(machine, options.allowCustomActions === true);
  }

  /** The machine and the child machines it invokes (registered alongside unless registered already), each checked. */
  private checkTree(machine: AnyStateMachine, allowCustomActions: boolean): { machine: AnyStateMachine; uses: ActorUse[] }[] {
    const out: { machine: AnyStateMachine; uses: ActorUse[] }[] = [];
    const visit = (m: AnyStateMachine) => {
      if (out.some((o) => o.machine === m)) return;
      if (m !== machine) {
        if (!ID_RE.test(m.id) || m.id === '(machine)')
          throw unsupported(machine, '(child)', `an invoked machine without an explicit id`, 'give the child machine an id');
        if (this.machines.get(m.id)?.size) return;
      }
      const uses = checkMachine(m, { allowCustomActions, minDelayMs: this.minDelayMs });
      out.push({ machine: m, uses });
      for (const u of uses) if (u.kind === 'machine') visit(u.logic as AnyStateMachine);
    };
    visit(machine);
    return out;
  }

  /**
   * Plain `fromPromise` logic runs as a step whose implementation is its own
   * promise function, once per invocation as in XState (no retries unless a
   * step of that name is registered with a policy).
   */
  private addPromiseStep(machine: AnyStateMachine, u: ActorUse): void {
    const creator = (u.logic as { config: (args: Record<string, unknown>) => Promise<unknown> }).config;
    const known = this.promiseSteps.get(u.src);
    if (known && String(known.creator) !== String(creator) && !this.steps.has(u.src)) {
      throw unsupported(
        machine,
        u.where,
        `actor "${u.src}"`,
        'another machine declares different fromPromise logic under the same name; ' +
          `rename one, or register a step implementation "${u.src}"`,
      );
    }
    const run = (input: unknown, ctx: StepContext) =>
      creator({ input, signal: ctx.signal, self: undefined, system: undefined, emit: () => {} });
    this.promiseSteps.set(u.src, { creator, impl: { run, policy: PROMISE_POLICY } });
  }

  /**
   * Names of the `step()` actors of `plan` (a machine and the child machines registered with it, or registered
   * before) with no implementation, counting `extra` (steps about to be registered with it).
   */
  private stepsWithout(plan: { machine: AnyStateMachine; uses: ActorUse[] }[], extra?: StepRegistry): string[] {
    const missing = new Set<string>();
    const seen = new Set<AnyStateMachine>();
    const visit = (m: AnyStateMachine, uses: ActorUse[] | undefined) => {
      if (seen.has(m)) return;
      seen.add(m);
      for (const u of uses ?? this.uses.get(m) ?? []) {
        if (u.kind === 'step' && !this.steps.has(u.src) && !(extra && Object.hasOwn(extra, u.src))) missing.add(u.src);
        if (u.kind === 'machine') visit(u.logic as AnyStateMachine, plan.find((p) => p.machine === u.logic)?.uses);
      }
    };
    for (const p of plan) visit(p.machine, p.uses);
    return [...missing];
  }

  /**
   * Registers several machines, or none: every step any of them lacks is listed in one
   * `step_not_registered` error before anything is registered (as `createRuntime` does).
   */
  registerAll(machines: readonly { machine: AnyStateMachine; options: RegisterOptions }[]): void {
    const missing: string[] = [];
    for (const { machine, options } of machines) {
      if (!machine || typeof machine !== 'object' || !(machine as { root?: unknown }).root) continue; // register() says why
      const plan = this.checkTree(machine, options?.allowCustomActions === true);
      const extra = Object.assign({}, ...machines.map((m) => m.options?.steps ?? {})) as StepRegistry;
      missing.push(...this.stepsWithout(plan, extra).map((name) => `${machine.id}@${options?.version}: ${name}`));
    }
    if (missing.length) throw missingStepsError(missing);
    for (const m of machines) this.register(m.machine, m.options);
  }

  /** Step actors (`step()` placeholders) of registered machines that have no implementation, as `machine@version: name`. */
  missingSteps(machineRef?: string): string[] {
    const regs = machineRef ? [this.resolve(machineRef)] : this.list();
    const missing = new Set<string>();
    const visit = (m: AnyStateMachine, ref: string, seen: Set<AnyStateMachine>) => {
      if (seen.has(m)) return;
      seen.add(m);
      for (const u of this.uses.get(m) ?? []) {
        if (u.kind === 'step' && !this.steps.has(u.src)) missing.add(`${ref}: ${u.src}`);
        if (u.kind === 'machine') visit(u.logic as AnyStateMachine, ref, seen);
      }
    };
    for (const r of regs) visit(r.machine, r.ref, new Set());
    return [...missing];
  }

  /** @throws RuntimeError `step_not_registered` listing every step without an implementation. */
  assertStepsRegistered(machineRef?: string): void {
    const missing = this.missingSteps(machineRef);
    if (missing.length) throw missingStepsError(missing);
  }

  registerSteps(steps: StepRegistry): void {
    if (!steps || typeof steps !== 'object')
      throw RuntimeError.invalidArgument('registerSteps', 'expected an object of step implementations by name');
    for (const [name, impl] of Object.entries(steps)) {
      const normalized: StepImplementation | undefined =
        typeof impl === 'function' ? { run: impl as StepFn } : impl && typeof impl.run === 'function' ? impl : undefined;
      if (!normalized) throw RuntimeError.invalidArgument('registerSteps', `step "${name}" must be a function or { run, policy? }`);
      this.steps.set(name, normalized);
    }
  }

  /** Resolves `id` (newest version) or `id@version`. */
  resolve(ref: string): RegisteredMachine {
    if (typeof ref !== 'string' || ref.length === 0) throw RuntimeError.invalidArgument('start', 'machine must be "id" or "id@version"');
    const at = ref.lastIndexOf('@');
    const id = at > 0 ? ref.slice(0, at) : ref;
    const versions = this.machines.get(id);
    if (!versions?.size) throw RuntimeError.machineNotFound(ref);
    if (at <= 0) return [...versions.values()].at(-1)!;
    const entry = versions.get(ref.slice(at + 1));
    if (!entry) {
      throw new RuntimeError(
        'machine_version_not_found',
        `Machine ${id} has no version "${ref.slice(at + 1)}" registered (registered: ${[...versions.keys()].join(', ')}).`,
        {
          machine: id,
          version: ref.slice(at + 1),
        },
      );
    }
    return entry;
  }

  find(id: string, version: string): RegisteredMachine | undefined {
    return this.machines.get(id)?.get(version);
  }

  list(): RegisteredMachine[] {
    return [...this.machines.values()].flatMap((v) => [...v.values()]);
  }

  step(name: string): StepImplementation | undefined {
    return this.steps.get(name) ?? this.promiseSteps.get(name)?.impl;
  }

  /** Effective policy: runtime defaults < implementation's policy < the machine's declared policy. */
  policyFor(machine: AnyStateMachine, src: string): Required<StepPolicy> {
    return { ...DEFAULT_POLICY, ...this.step(src)?.policy, ...stepPolicyOf(machine.implementations.actors?.[src]) };
  }
}

/** The refusal of machines whose `step()` actors have no implementation, each listed as `machine@version: name`. */
function missingStepsError(missing: string[]): RuntimeError {
  return new RuntimeError(
    'step_not_registered',
    `No step implementation is registered for: ${missing.join(', ')}; ` +
      'pass them as register(machine, { version, steps: { name: fn } }) or to createRuntime({ steps }) before registering the machine.',
    { missing },
  );
}

/** Defaults for steps that declare no policy. */
export const DEFAULT_POLICY: Required<StepPolicy> = {
  maxAttempts: 3,
  initialDelayMs: 200,
  maxDelayMs: 30_000,
  backoffFactor: 2,
  jitter: 0.2,
  timeoutMs: 30_000,
};

/**
 * Makes an inline child machine (`invoke: { src: machine }`, named `xstate.invoke.<i>.<node>`)
 * findable by its src in `implementations.actors`, where the effect planner and dispatcher look
 * for child machines. XState itself resolves such names from the state node, so this changes
 * nothing in how the machine runs.
 */
function exposeInline(machine: AnyStateMachine, u: ActorUse): void {
  const actors = machine.implementations.actors as Record<string, unknown> | undefined;
  if (actors && u.src.startsWith('xstate.invoke.') && !(u.src in actors)) actors[u.src] = u.logic;
}

/** Policy of plain fromPromise logic: one attempt, as XState runs it; a day before it counts as timed out. */
const PROMISE_POLICY: StepPolicy = { maxAttempts: 1, timeoutMs: 86_400_000 };

/** True for XState machine logic (as opposed to promise/callback logic). */
export function isMachine(logic: unknown): logic is AnyStateMachine {
  return !!logic && typeof logic === 'object' && 'root' in logic && 'getPersistedSnapshot' in logic && 'config' in logic;
}
