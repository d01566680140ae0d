/**
 * Registers JSON workflow definitions with a runtime: validated in full
 * first (every problem with its JSON Pointer), then built and registered,
 * kept in a store so they are registered again after a restart.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { AnyStateMachine } from 'xstate';
import { RuntimeError, type RegisteredMachine, type Runtime } from '../runtime/index.ts';
import { buildMachine, sourceDefinitionOf } from './build-machine.ts';
import type { ImplementationCatalog } from './catalog.ts';
import type { DefinitionIssue } from './issues.ts';
import { validateDefinition, type MachineDefinition } from './validate-definition.ts';
import { compilePhaseWorkflow } from './phases/compile-phases.ts';
import type { PhaseParameters } from './phases/phase-schema.ts';

/** A definition kept for re-registration at start. */
export interface StoredDefinition {
  readonly machineId: string;
  readonly version: string;
  readonly definition: MachineDefinition;
  readonly createdBy: string | null;
  readonly createdAt: Date;
}

/** Where definitions registered at run time are kept (Postgres in production). */
export interface DefinitionStore {
  /** Inserts; returns false when `machineId@version` already exists. */
  insert(record: StoredDefinition): Promise<boolean>;
  /** Every stored definition, oldest first. */
  list(): Promise<StoredDefinition[]>;
}

/** An in-memory {@link DefinitionStore} (tests, simulation). */
export class MemoryDefinitionStore implements DefinitionStore {
  private readonly rows = new Map<string, StoredDefinition>();
  async insert(record: StoredDefinition): Promise<boolean> {
    const key = `${record.machineId}@${record.version}`;
    if (this.rows.has(key)) return false;
    this.rows.set(key, structuredClone(record));
    return true;
  }
  async list(): Promise<StoredDefinition[]> {
    return [...this.rows.values()].map((r) => structuredClone(r));
  }
}

/** The refusal of a definition: code `definition_invalid`, every issue in `details.issues`. */
export function definitionInvalid(issues: readonly DefinitionIssue[], what = 'The definition'): RuntimeError {
  const first = issues[0];
  const where = first ? ` First: ${first.path || '(document)'}${first.line ? ` (line ${first.line})` : ''}: ${first.message}.` : '';
  return new RuntimeError('definition_invalid', `${what} has ${issues.length} problem(s); nothing was registered.${where}`, {
    issues: [...issues],
  });
}

/**
 * JSON definitions for one runtime.
 * @example
 * ```ts
 * const definitions = new DefinitionService(runtime, createCatalog(stepActors(Object.keys(steps))), store);
 * await definitions.restore();
 * await definitions.loadFolder(process.env.STATEKEEPER_WORKFLOWS_DIR);
 * ```
 */
export class DefinitionService {
  constructor(
    private readonly runtime: Pick<Runtime, 'register' | 'registry'>,
    readonly catalog: ImplementationCatalog,
    private readonly store: DefinitionStore = new MemoryDefinitionStore(),
  ) {}

  /** Every problem of a definition (text or parsed JSON); empty when it can be registered. */
  check(source: unknown): DefinitionIssue[] {
    const r = validateDefinition(source, this.catalog, { machineExists: (id) => this.machine(id) !== undefined });
    return r.ok ? [] : r.issues;
  }

  /**
   * Validates, builds and registers a definition, then stores it (unless it
   * came from a file). Registering the same definition again is a no-op; a
   * different one under a registered `id@version` is `definition_conflict`.
   */
  async register(source: unknown, options: { persist?: boolean; actor?: string | null } = {}): Promise<RegisteredMachine> {
    const r = validateDefinition(source, this.catalog, { machineExists: (id) => this.machine(id) !== undefined });
    if (!r.ok) throw definitionInvalid(r.issues);
    const def = r.definition;
    const version = def.version ?? '1';
    const existing = this.runtime.registry.find(def.id, version);
    if (existing) {
      const same = sourceDefinitionOf(existing.machine);
      if (same && isDeepStrictEqual(same, def)) return existing;
      throw new RuntimeError(
        'definition_conflict',
        `Machine ${def.id}@${version} is already registered with another definition; give this one a new "version".`,
        { machine: `${def.id}@${version}` },
      );
    }
    let machine: AnyStateMachine;
    try {
      machine = buildMachine(def, this.catalog, { machine: (id) => this.machine(id) });
      // XState resolves transitions lazily: touch every node now so a fault shows here, not on the first event.
      void machine.root.definition;
    } catch (e) {
      throw definitionInvalid([
        { code: 'invalid_value', path: '', message: `XState refused the definition: ${e instanceof Error ? e.message : String(e)}` },
      ]);
    }
    try {
      // What the runtime refuses (a fixed delay below its minimum, …) is refused before anything is stored.
      this.runtime.registry.check(machine);
    } catch (e) {
      if (!(e instanceof RuntimeError) || e.code !== 'unsupported_machine') throw e;
      throw definitionInvalid([{ code: 'invalid_value', path: '', message: e.message }]);
    }
    if (options.persist) {
      const inserted = await this.store.insert({
        machineId: def.id,
        version,
        definition: def,
        createdBy: options.actor ?? null,
        createdAt: new Date(),
      });
      if (!inserted)
        throw new RuntimeError(
          'definition_conflict',
          `Machine ${def.id}@${version} was registered by another server meanwhile; reload or use a new version.`,
          { machine: `${def.id}@${version}` },
        );
    }
    return this.runtime.register(machine, { version, description: typeof def.description === 'string' ? def.description : undefined });
  }

  /**
   * Compiles a phase workflow (YAML, `statekeeper: phases/1`) with template
   * parameters and registers the machine config it compiles to, exactly as
   * a JSON definition (stored as that JSON when `persist`).
   */
  async registerPhases(
    text: string,
    options: { parameters?: PhaseParameters; persist?: boolean; actor?: string | null } = {},
  ): Promise<RegisteredMachine> {
    const r = compilePhaseWorkflow(text, {
      catalog: this.catalog,
      machineExists: (id) => this.machine(id) !== undefined,
      parameters: options.parameters,
    });
    if (!r.ok) throw definitionInvalid(r.issues, 'The phase workflow');
    return this.register(r.definition, { persist: options.persist, actor: options.actor });
  }

  /** Registers every stored definition again (call before `runtime.resume()`). */
  async restore(): Promise<RegisteredMachine[]> {
    const out: RegisteredMachine[] = [];
    for (const row of await this.store.list()) out.push(await this.register(row.definition));
    return out;
  }

  /**
   * Registers every `*.json` definition and `*.yaml` / `*.yml` phase
   * workflow of a folder (sorted by name, so a child machine can be loaded
   * before its parent by naming). The problems of every file are reported
   * together, each naming its file (and, for YAML, the line).
   */
  async loadFolder(dir: string): Promise<RegisteredMachine[]> {
    const files = (await readdir(dir)).filter((f) => /\.(json|ya?ml)$/.test(f)).sort();
    const out: RegisteredMachine[] = [];
    const problems: DefinitionIssue[] = [];
    for (const f of files) {
      const text = await readFile(path.join(dir, f), 'utf8');
      try {
        out.push(await (f.endsWith('.json') ? this.register(text) : this.registerPhases(text)));
      } catch (e) {
        if (!(e instanceof RuntimeError) || e.code !== 'definition_invalid') throw e;
        for (const i of (e.details?.issues ?? []) as DefinitionIssue[]) problems.push({ ...i, message: `${f}: ${i.message}` });
      }
    }
    if (problems.length) throw definitionInvalid(problems, `The workflows folder ${dir}`);
    return out;
  }

  private machine(id: string): AnyStateMachine | undefined {
    return this.runtime.registry.list().findLast((m) => m.id === id)?.machine;
  }
}
