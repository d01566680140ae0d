import type { AnyStateMachine } from 'xstate';
import { stepPolicyOf, type StepPolicy } from './step.ts';
import type { StepFn, StepImplementation, StepRegistry } from './step-types.ts';
import { RuntimeError } from './errors.ts';

/** A machine registered under `id@version`. */
export interface RegisteredMachine {
  readonly id: string;
  readonly version: string;
  readonly ref: string;
  readonly machine: AnyStateMachine;
  readonly description?: string;
}

/** Options of `runtime.register`. */
export interface RegisterOptions {
  /** Version this definition is registered as; instances keep the version they started with. */
  readonly version: string;
  readonly description?: string;
  /** Step implementations by actor name (merged into the runtime's step registry). */
  readonly steps?: StepRegistry;
}

const ID_RE = /^[a-z0-9][a-z0-9._-]{0,99}$/i;

/** Machines by `id@version` and step implementations by name. */
export class Registry {
  private readonly machines = new Map<string, Map<string, RegisteredMachine>>();
  private readonly steps = new Map<string, StepImplementation>();

  register(machine: AnyStateMachine, options: RegisterOptions): RegisteredMachine {
    if (!machine || typeof machine !== 'object' || typeof (machine as { transition?: unknown }).transition !== 'function' || !(machine as { root?: unknown }).root) {
      throw RuntimeError.invalidArgument('register', 'expected an XState machine (from setup(...).createMachine(...))');
    }
    const version = options?.version;
    if (typeof version !== 'string' || !ID_RE.test(version)) {
      throw RuntimeError.invalidArgument('register', `version must be a non-empty string of letters, digits, ".", "_" or "-" (got ${JSON.stringify(version)})`);
    }
    if (!ID_RE.test(machine.id) || machine.id === '(machine)') {
      throw RuntimeError.invalidArgument('register', `the machine needs an explicit id of letters, digits, ".", "_" or "-" (got "${machine.id}")`);
    }
    const versions = this.machines.get(machine.id) ?? new Map<string, RegisteredMachine>();
    const existing = versions.get(version);
    if (existing && existing.machine !== machine) {
      throw new RuntimeError('machine_already_registered', `Machine ${machine.id}@${version} is already registered with another definition; register a new version instead.`, { machine: `${machine.id}@${version}` });
    }
    const entry: RegisteredMachine = { id: machine.id, version, ref: `${machine.id}@${version}`, machine, description: options.description };
    versions.set(version, entry);
    this.machines.set(machine.id, versions);
    if (options.steps) this.registerSteps(options.steps);
    // Invoked child machines become instances of their own: register them alongside.
    for (const logic of Object.values(machine.implementations.actors ?? {})) {
      if (isMachine(logic) && !this.machines.get(logic.id)?.size) this.register(logic, { version });
    }
    return entry;
  }

  registerSteps(steps: StepRegistry): void {
    if (!steps || typeof steps !== 'object') throw RuntimeError.invalidArgument('registerSteps', 'expected an object of step implementations by name');
    for (const [name, impl] of Object.entries(steps)) {
      const normalized: StepImplementation | undefined = typeof impl === 'function' ? { run: impl as StepFn } : impl && typeof impl.run === 'function' ? impl : undefined;
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
      throw new RuntimeError('machine_version_not_found', `Machine ${id} has no version "${ref.slice(at + 1)}" registered (registered: ${[...versions.keys()].join(', ')}).`, {
        machine: id,
        version: ref.slice(at + 1),
      });
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
    return this.steps.get(name);
  }

  /** Effective policy: runtime defaults < implementation's policy < the machine's declared policy. */
  policyFor(machine: AnyStateMachine, src: string): Required<StepPolicy> {
    return { ...DEFAULT_POLICY, ...this.steps.get(src)?.policy, ...stepPolicyOf(machine.implementations.actors?.[src]) };
  }
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

/** True for XState machine logic (as opposed to promise/callback logic). */
export function isMachine(logic: unknown): logic is AnyStateMachine {
  return !!logic && typeof logic === 'object' && 'root' in logic && 'getPersistedSnapshot' in logic && 'config' in logic;
}
