/**
 * Compiles a phase workflow (YAML, `statekeeper: phases/1`) into an ordinary
 * XState machine config in JSON, which then goes through the JSON definition
 * path (validation, building, registration, export, Stately Studio).
 *
 * The machine: `running` is a parallel state with one region per phase;
 * each region waits until the phases it depends on are completed or skipped
 * (so any DAG runs its independent phases in parallel and joins where a
 * phase depends on several), decides its `when`, then is `active` with two
 * regions: `work` (the activities in order) and `schedule` (on_schedule →
 * at_risk → behind_schedule on durable timers). When every phase is
 * completed or skipped the machine is `completed`. Per-phase progress lives
 * in `context.phases`.
 */
import type { ImplementationCatalog } from '../catalog.ts';
import { compileExpression, ExpressionError } from '../expressions.ts';
import type { DefinitionIssue } from '../issues.ts';
import { validateDefinition, type MachineDefinition } from '../validate-definition.ts';
import { isExpr, isPlain } from '../values.ts';
import { formProblem } from '../../runtime/task-forms.ts';
import { PhaseWorkflowSchema, type Activity, type Phase, type PhaseParameters, type PhaseWorkflow } from './phase-schema.ts';
import { parseYaml, type YamlSource } from './yaml-source.ts';

/** Default share of the SLA after which a phase is at risk. */
export const DEFAULT_AT_RISK = 0.75;
const MS = { minutes: 60_000, hours: 3_600_000, days: 86_400_000 } as const;
const DAY_MS = MS.days;

/** What compiling needs besides the text. */
export interface CompilePhasesOptions {
  readonly catalog: ImplementationCatalog;
  /** True for a registered machine id (an activity's `workflow`). */
  readonly machineExists?: (id: string) => boolean;
  readonly parameters?: PhaseParameters;
}

/** The result of {@link compilePhaseWorkflow}. */
export type CompiledPhases =
  | { ok: true; definition: MachineDefinition; workflow: PhaseWorkflow }
  | { ok: false; issues: DefinitionIssue[] };

/**
 * Parses, checks and compiles a phase workflow. Every problem is reported
 * with its JSON Pointer into the document and its line and column.
 * @example
 * ```ts
 * const r = compilePhaseWorkflow(await readFile('audit.yaml', 'utf8'), { catalog, parameters: { sla: { planning: 5 } } });
 * if (r.ok) await definitions.register(r.definition);
 * ```
 */
export function compilePhaseWorkflow(text: string, options: CompilePhasesOptions): CompiledPhases {
  const parsed = parseYaml(text);
  if (!parsed.ok) return parsed;
  const src = parsed.source;
  const shape = PhaseWorkflowSchema.safeParse(src.value);
  if (!shape.success) return { ok: false, issues: shape.error.issues.flatMap((i) => schemaIssues(src, i)) };
  const wf = shape.data;
  const issues = [...checkWorkflow(src, wf, options), ...checkParameters(wf, options.parameters ?? {})];
  if (issues.length) return { ok: false, issues };
  const definition = generate(wf, options.parameters ?? {});
  const checked = validateDefinition(definition, options.catalog, { machineExists: options.machineExists });
  if (!checked.ok)
    return {
      ok: false,
      issues: checked.issues.map((i) => ({ ...i, message: `in the compiled machine at ${i.path}: ${i.message}`, ...src.positionOf([]) })),
    };
  return { ok: true, definition: checked.definition, workflow: wf };
}

/** A zod issue as definition issues: one per unknown key, else one at its path. */
function schemaIssues(src: YamlSource, i: { code: string; path: PropertyKey[]; message: string; keys?: string[] }): DefinitionIssue[] {
  const path = i.path.map((p) => (typeof p === 'number' ? p : String(p)));
  if (i.code === 'unrecognized_keys' && i.keys)
    return i.keys.map((k) => src.issue('unknown_key', [...path, k], `"${k}" is not a property here`, true));
  return [src.issue('invalid_value', path, i.message)];
}

/** Checks what the schema cannot: unique ids, names that exist, dependencies without cycles, expressions, forms. */
function checkWorkflow(src: YamlSource, wf: PhaseWorkflow, o: CompilePhasesOptions): DefinitionIssue[] {
  const issues: DefinitionIssue[] = [];
  const byId = new Map<string, number>();
  wf.phases.forEach((p, i) => {
    if (byId.has(p.id)) issues.push(src.issue('duplicate_id', ['phases', i, 'id'], `phase id "${p.id}" is used twice`));
    else byId.set(p.id, i);
  });
  wf.phases.forEach((p, i) => {
    const at = ['phases', i] as const;
    (p.depends_on ?? []).forEach((d, k) => {
      if (d === p.id) issues.push(src.issue('dependency_cycle', [...at, 'depends_on', k], `phase "${p.id}" depends on itself`));
      else if (!byId.has(d))
        issues.push(src.issue('unknown_phase', [...at, 'depends_on', k], `no phase "${d}" (phases: ${[...byId.keys()].join(', ')})`));
    });
    if (p.when !== undefined) expression(src, issues, p.when, [...at, 'when']);
    const seen = new Set<string>();
    p.activities.forEach((a, j) => {
      const here = [...at, 'activities', j];
      if (seen.has(a.id) || a.id.endsWith('_failed'))
        issues.push(
          src.issue('duplicate_id', [...here, 'id'], `activity id "${a.id}" is used twice in phase "${p.id}" (or ends in _failed)`),
        );
      seen.add(a.id);
      const kinds = (['task', 'step', 'workflow'] as const).filter((k) => a[k] !== undefined);
      if (kinds.length !== 1) {
        issues.push(
          src.issue('invalid_value', here, `an activity is exactly one of task, step or workflow (found: ${kinds.join(', ') || 'none'})`),
        );
        return;
      }
      if (a.step !== undefined && !Object.hasOwn(o.catalog.actors, a.step))
        issues.push(src.issue('unknown_actor', [...here, 'step'], `no step "${a.step}" is registered`));
      if (a.workflow !== undefined && !o.machineExists?.(a.workflow))
        issues.push(src.issue('unknown_actor', [...here, 'workflow'], `no machine "${a.workflow}" is registered (register it first)`));
      if (a.input !== undefined) {
        if (a.task !== undefined)
          issues.push(src.issue('invalid_value', [...here, 'input'], 'a task has no input (only steps and workflows)'));
        else values(src, issues, a.input, [...here, 'input']);
      }
      const form = a.task?.form;
      const bad = form ? formProblem(form) : undefined;
      if (bad) issues.push(src.issue('invalid_value', [...here, 'task', 'form'], bad.replace('meta.task.form', 'the form')));
    });
  });
  for (const cycle of cycles(wf.phases))
    for (const id of cycle) {
      const i = byId.get(id)!;
      issues.push(
        src.issue(
          'dependency_cycle',
          ['phases', i, 'depends_on'],
          `phases depend on each other in a cycle: ${[...cycle, cycle[0]].join(' → ')}`,
        ),
      );
    }
  return issues;
}

function expression(src: YamlSource, issues: DefinitionIssue[], text: string, at: (string | number)[]): void {
  try {
    compileExpression(text);
  } catch (e) {
    issues.push(src.issue('invalid_expression', at, e instanceof ExpressionError ? `CEL: ${e.message}` : String(e)));
  }
}

function values(src: YamlSource, issues: DefinitionIssue[], v: unknown, at: (string | number)[]): void {
  if (isExpr(v)) expression(src, issues, v.$expr, [...at, '$expr']);
  else if (Array.isArray(v)) v.forEach((x, i) => values(src, issues, x, [...at, i]));
  else if (isPlain(v)) for (const [k, x] of Object.entries(v)) values(src, issues, x, [...at, k]);
}

/** Each dependency cycle once (as the list of its phase ids). */
function cycles(phases: readonly Phase[]): string[][] {
  const deps = new Map(phases.map((p) => [p.id, (p.depends_on ?? []).filter((d) => d !== p.id)]));
  const state = new Map<string, 'visiting' | 'done'>();
  const found: string[][] = [];
  const visit = (id: string, stack: string[]) => {
    if (state.get(id) === 'done') return;
    if (state.get(id) === 'visiting') {
      found.push(stack.slice(stack.indexOf(id)));
      return;
    }
    state.set(id, 'visiting');
    for (const d of deps.get(id) ?? []) if (deps.has(d)) visit(d, [...stack, id]);
    state.set(id, 'done');
  };
  for (const p of phases) visit(p.id, []);
  return found;
}

/** Template parameters name phases that exist and carry sensible values (no YAML position: they are not in the file). */
function checkParameters(wf: PhaseWorkflow, params: PhaseParameters): DefinitionIssue[] {
  const ids = new Set(wf.phases.map((p) => p.id));
  const issues: DefinitionIssue[] = [];
  const at = (...s: string[]) => `/parameters/${s.join('/')}`;
  for (const [id, n] of Object.entries(params.sla ?? {})) {
    if (!ids.has(id)) issues.push({ code: 'unknown_phase', path: at('sla', id), message: `no phase "${id}"` });
    else if (!wf.phases.find((p) => p.id === id)!.sla)
      issues.push({ code: 'invalid_value', path: at('sla', id), message: `phase "${id}" declares no sla to set the duration of` });
    if (typeof n !== 'number' || !(n > 0) || n > 3650)
      issues.push({ code: 'invalid_value', path: at('sla', id), message: 'a duration above 0' });
  }
  (params.phases ?? []).forEach((id, i) => {
    if (!ids.has(id)) issues.push({ code: 'unknown_phase', path: at('phases', String(i)), message: `no phase "${id}"` });
  });
  if (params.phases && params.phases.length === 0)
    issues.push({ code: 'invalid_value', path: at('phases'), message: 'at least one phase applies' });
  if (params.atRisk !== undefined && !(params.atRisk > 0 && params.atRisk < 1))
    issues.push({ code: 'invalid_value', path: at('atRisk'), message: 'a share of the SLA, above 0 and below 1' });
  return issues;
}

/** The phases that apply, with dependencies on left-out phases replaced by theirs. */
function applicable(wf: PhaseWorkflow, params: PhaseParameters): Phase[] {
  const keep = new Set(params.phases ?? wf.phases.map((p) => p.id));
  const byId = new Map(wf.phases.map((p) => [p.id, p]));
  const resolve = (id: string, seen: Set<string>): string[] => {
    if (keep.has(id)) return [id];
    if (seen.has(id)) return [];
    seen.add(id);
    return (byId.get(id)?.depends_on ?? []).flatMap((d) => resolve(d, seen));
  };
  return wf.phases
    .filter((p) => keep.has(p.id))
    .map((p) => ({ ...p, depends_on: [...new Set((p.depends_on ?? []).flatMap((d) => resolve(d, new Set())))] }));
}

/** SLA in milliseconds; business days count 5 to a calendar week (no holiday calendar). */
function slaMs(p: Phase, params: PhaseParameters): number | null {
  if (!p.sla) return null;
  const duration = params.sla?.[p.id] ?? p.sla.duration;
  const calendar = p.sla.business_days && p.sla.unit === 'days' ? (duration * 7) / 5 : duration;
  return Math.round(calendar * MS[p.sla.unit]);
}

const set = (path: string, value: unknown) => ({ type: 'set', params: { path, value } });
const expr = (e: string) => ({ type: 'expr', params: { expr: e } });

/** The machine config (JSON) of a checked workflow. */
function generate(wf: PhaseWorkflow, params: PhaseParameters): MachineDefinition {
  const id = params.id ?? wf.id;
  const phases = applicable(wf, params);
  const share = params.atRisk ?? wf.schedule?.at_risk ?? DEFAULT_AT_RISK;
  const overrideRoles = wf.overrides?.roles;
  const context = {
    input: { $expr: 'input' },
    phases: Object.fromEntries(
      phases.map((p) => {
        const sla = slaMs(p, params);
        return [
          p.id,
          {
            name: p.name,
            roles: p.roles,
            status: 'not_started',
            schedule: null,
            slaMs: sla,
            atRiskMs: sla === null ? null : Math.round(sla * share),
            answers: {},
          },
        ];
      }),
    ),
  };
  const allDone = phases.map((p) => `context.phases.${p.id}.status in ['completed', 'skipped']`).join(' && ');
  return {
    id,
    ...((params.version ?? wf.version) ? { version: params.version ?? wf.version } : {}),
    ...(wf.description ? { description: wf.description } : {}),
    context,
    initial: 'running',
    meta: {
      format: 'phases/1',
      phases: phases.map((p) => ({ id: p.id, name: p.name, roles: p.roles, dependsOn: p.depends_on ?? [] })),
      ...(overrideRoles ? { overrideRoles } : {}),
    },
    states: {
      running: {
        type: 'parallel',
        always: { guard: expr(allDone), target: 'completed' },
        states: Object.fromEntries(phases.map((p) => [p.id, region(id, p, overrideRoles, share)])),
      },
      completed: { type: 'final' },
    },
    output: { phases: { $expr: 'context.phases' } },
  };
}

/** One phase's region: waiting → deciding → active (work ∥ schedule) → done | skipped. */
function region(machineId: string, p: Phase, overrideRoles: readonly string[] | undefined, share: number): Record<string, unknown> {
  const path = `phases.${p.id}`;
  const reason = `has(event.reason) && size(string(event.reason)) > 0 && event.phase == '${p.id}'`;
  const override = (event: string) => (overrideRoles ? { roles: { [event]: [...overrideRoles] } } : undefined);
  const deps = p.depends_on ?? [];
  const states: Record<string, unknown> = {};
  if (deps.length) {
    const met = deps.map((d) => `context.phases.${d}.status in ['completed', 'skipped']`).join(' && ');
    states.waiting = { always: { guard: expr(met), target: 'deciding' } };
  }
  states.deciding = {
    always: p.when
      ? [{ guard: { type: 'when', params: { expr: p.when } }, target: 'active' }, { target: 'skipped' }]
      : { target: 'active' },
  };
  const active: Record<string, unknown> = {
    type: 'parallel',
    entry: [set(`${path}.status`, 'in_progress')],
    states: { work: work(machineId, p) },
  };
  if (p.sla) (active.states as Record<string, unknown>).schedule = schedule(p, path, reason, overrideRoles, share);
  if (overrideRoles) {
    active.meta = override('phase.complete');
    active.on = { 'phase.complete': { guard: expr(reason), target: 'done' } };
  }
  states.active = active;
  states.done = {
    entry: [set(`${path}.status`, 'completed')],
    ...(overrideRoles ? { meta: override('phase.reopen'), on: { 'phase.reopen': { guard: expr(reason), target: 'active' } } } : {}),
  };
  states.skipped = { entry: [set(`${path}.status`, 'skipped')] };
  return { initial: deps.length ? 'waiting' : 'deciding', ...(p.description ? { description: p.description } : {}), states };
}

/** The activities in order; the last one's completion ends the phase. */
function work(machineId: string, p: Phase): Record<string, unknown> {
  const states: Record<string, unknown> = {};
  p.activities.forEach((a, i) => {
    const next = i + 1 < p.activities.length ? p.activities[i + 1]!.id : `#${machineId}.running.${p.id}.done`;
    const keep = (value: string) => [set(`phases.${p.id}.answers.${a.id}`, { $expr: value })];
    if (a.task) states[a.id] = taskState(p, a, next, keep('has(event.answer) ? event.answer : null'));
    else {
      states[a.id] = {
        ...(a.name ? { description: a.name } : {}),
        invoke: {
          id: `${p.id}.${a.id}`,
          src: a.step ?? a.workflow,
          ...(a.input === undefined ? {} : { input: a.input }),
          onDone: { target: next, actions: keep('has(event.output) ? event.output : null') },
          onError: `${a.id}_failed`,
        },
      };
      // A failed step or child waits for an operator's retry (or a phase override).
      states[`${a.id}_failed`] = { on: { 'operator.retry': a.id } };
    }
  });
  return { initial: p.activities[0]!.id, states };
}

function taskState(p: Phase, a: Activity, next: string, actions: unknown[]): Record<string, unknown> {
  const event = `${p.id}.${a.id}.done`;
  const roles = a.task!.roles ?? p.roles;
  const task = {
    title: a.task!.title,
    ...(a.task!.description ? { description: a.task!.description } : {}),
    event,
    roles,
    ...(a.task!.assignee ? { assignee: a.task!.assignee } : {}),
    ...(a.task!.form ? { form: a.task!.form } : {}),
  };
  return {
    ...(a.name ? { description: a.name } : {}),
    meta: { task, roles: { [event]: roles } },
    on: { [event]: { target: next, actions } },
  };
}

/** on_schedule → at_risk → behind_schedule, on timers computed from the phase's SLA; extend restarts it. */
function schedule(
  p: Phase,
  path: string,
  reason: string,
  overrideRoles: readonly string[] | undefined,
  share: number,
): Record<string, unknown> {
  const status = (s: string, emit: boolean) => [
    set(`${path}.schedule`, s),
    ...(emit ? [{ type: 'emit', params: { event: { type: `phase.${s}`, phase: p.id } } }] : []),
  ];
  const node: Record<string, unknown> = {
    initial: 'on_schedule',
    states: {
      on_schedule: { entry: status('on_schedule', false), after: { [`=context.${path}.atRiskMs`]: 'at_risk' } },
      at_risk: { entry: status('at_risk', true), after: { [`=context.${path}.slaMs - context.${path}.atRiskMs`]: 'behind_schedule' } },
      behind_schedule: { entry: status('behind_schedule', true) },
    },
  };
  if (overrideRoles) {
    // Extending gives the phase `days` more days from now: the schedule starts over with that SLA.
    node.meta = { roles: { 'phase.extend': [...overrideRoles] } };
    node.on = {
      'phase.extend': {
        guard: expr(`${reason} && has(event.days) && double(event.days) > 0.0 && double(event.days) <= 3650.0`),
        target: '.on_schedule',
        actions: [
          set(`${path}.slaMs`, { $expr: `double(event.days) * ${DAY_MS}.0` }),
          set(`${path}.atRiskMs`, { $expr: `double(event.days) * ${DAY_MS}.0 * ${share}` }),
        ],
      },
    };
  }
  return node;
}
