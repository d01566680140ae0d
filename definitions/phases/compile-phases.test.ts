import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createSimulation } from '../../runtime/testing/index.ts';
import type { Runtime } from '../../runtime/index.ts';
import { transitionTable } from '../../test/fixtures/bundled-graph-cases.ts';
import { buildMachine } from '../build-machine.ts';
import { createCatalog, stepActors } from '../catalog.ts';
import { DefinitionService, MemoryDefinitionStore } from '../definition-service.ts';
import { exportDefinition } from '../export-definition.ts';
import { compilePhaseWorkflow } from './compile-phases.ts';
import type { PhaseParameters } from './phase-schema.ts';

const yaml = readFileSync(new URL('../../test/fixtures/phases/review-flow.yaml', import.meta.url), 'utf8');
const catalog = createCatalog(stepActors(['enrichRequest']));
const DAY = 86_400_000;
const people = {
  clerk: { id: 'u:clara', roles: ['clerk'] },
  legal: { id: 'u:leo', roles: ['legal'] },
  finance: { id: 'u:fin', roles: ['finance'] },
  manager: { id: 'u:max', roles: ['manager'] },
};

async function open(parameters?: PhaseParameters) {
  const sim = await createSimulation({
    steps: {
      enrichRequest: async ({ answers }: { answers: { register: { amount: number } } }) => ({
        band: answers.register.amount > 100 ? 'high' : 'low',
      }),
    },
  });
  const definitions = new DefinitionService(sim.runtime, catalog, new MemoryDefinitionStore());
  const reg = await definitions.registerPhases(yaml, { parameters });
  return { sim, rt: sim.runtime, definitions, reg };
}

/** Completes the one open task of `phase` in instance `id` as `who`. */
async function finish(rt: Runtime, id: string, phase: string, who: { id: string; roles: string[] }, answer?: unknown) {
  const task = (await rt.tasks.list({ caller: who })).items.find((t) => t.instanceId === id && t.state.includes(`.${phase}.`));
  if (!task) throw new Error(`no open task of phase ${phase} for ${who.id}`);
  return rt.tasks.complete(task.id, answer, { caller: who });
}

const phasesOf = async (rt: Runtime, id: string) =>
  (await rt.get(id)).context as { phases: Record<string, { status: string; schedule: string | null }> };
const statuses = async (rt: Runtime, id: string) =>
  Object.fromEntries(Object.entries((await phasesOf(rt, id)).phases).map(([k, v]) => [k, v.status]));

describe('phase workflows compiled from YAML', () => {
  it('runs the DAG: intake, then legal ∥ finance, joined before sign-off (which waits for both)', async () => {
    const { sim, rt } = await open();
    const { id } = await rt.start({ machine: 'review-flow', input: { kind: 'external' } });
    await sim.settle();
    expect(await statuses(rt, id)).toEqual({ intake: 'in_progress', legal: 'not_started', finance: 'not_started', signoff: 'not_started' });
    await finish(rt, id, 'intake', people.clerk, { amount: 250 });
    await sim.settle();
    expect((await phasesOf(rt, id)).phases.intake).toMatchObject({
      status: 'completed',
      answers: { register: { amount: 250 }, enrich: { band: 'high' } },
    });
    expect(await statuses(rt, id)).toMatchObject({ legal: 'in_progress', finance: 'in_progress', signoff: 'not_started' });
    await finish(rt, id, 'legal', people.legal);
    expect(await statuses(rt, id)).toMatchObject({ legal: 'completed', finance: 'in_progress', signoff: 'not_started' });
    await finish(rt, id, 'finance', people.finance);
    expect(await statuses(rt, id)).toMatchObject({ finance: 'completed', signoff: 'in_progress' });
    await finish(rt, id, 'signoff', people.manager);
    const done = await rt.get(id);
    expect(done.status).toBe('done');
    expect(Object.values((done.output as { phases: Record<string, { status: string }> }).phases).map((p) => p.status)).toEqual(
      Array(4).fill('completed'),
    );
  });

  it('a variant per report type: `when` on the input skips finance for internal requests', async () => {
    const { sim, rt } = await open();
    const { id } = await rt.start({ machine: 'review-flow', input: { kind: 'internal' } });
    await finish(rt, id, 'intake', people.clerk, { amount: 5 });
    await sim.settle();
    expect(await statuses(rt, id)).toMatchObject({ legal: 'in_progress', finance: 'skipped', signoff: 'not_started' });
    await finish(rt, id, 'legal', people.legal);
    expect(await statuses(rt, id)).toMatchObject({ signoff: 'in_progress' });
  });

  it('roles per phase: another phase role, or a task role, cannot act', async () => {
    const { rt } = await open();
    const { id } = await rt.start({ machine: 'review-flow', input: { kind: 'external' } });
    await expect(rt.send(id, { type: 'intake.register.done', answer: { amount: 1 } }, { caller: people.legal })).rejects.toMatchObject({
      code: 'event_not_allowed',
    });
    await expect(finish(rt, id, 'intake', people.legal)).rejects.toThrow(/no open task/);
  });

  it('schedule: on_schedule → at_risk at the configured share → behind_schedule at the SLA, emitted as events', async () => {
    const { sim, rt } = await open();
    const { id } = await rt.start({ machine: 'review-flow', input: { kind: 'external' } });
    await sim.settle();
    expect((await phasesOf(rt, id)).phases.intake!.schedule).toBe('on_schedule');
    await sim.advance(DAY - 1);
    expect((await phasesOf(rt, id)).phases.intake!.schedule).toBe('on_schedule');
    await sim.advance(1);
    expect((await phasesOf(rt, id)).phases.intake!.schedule).toBe('at_risk');
    await sim.advance(DAY);
    expect((await phasesOf(rt, id)).phases.intake!.schedule).toBe('behind_schedule');
    const outbox = (sim.store as unknown as { outbox: { instanceId: string; type: string; payload: unknown }[] }).outbox;
    expect(outbox.filter((o) => o.instanceId === id).map((o) => [o.type, o.payload])).toEqual([
      ['phase.at_risk', { type: 'phase.at_risk', phase: 'intake' }],
      ['phase.behind_schedule', { type: 'phase.behind_schedule', phase: 'intake' }],
    ]);
  });

  it('overrides by the override role, with a reason: extend restarts the schedule, complete ends a phase, reopen reopens it', async () => {
    const { sim, rt } = await open();
    const { id } = await rt.start({ machine: 'review-flow', input: { kind: 'external' } });
    await sim.advance(2 * DAY);
    expect((await phasesOf(rt, id)).phases.intake!.schedule).toBe('behind_schedule');
    const noReason = await rt.send(id, { type: 'phase.extend', phase: 'intake', days: 3 }, { caller: people.manager });
    expect(noReason.handled).toBe(false);
    await expect(
      rt.send(id, { type: 'phase.extend', phase: 'intake', days: 3, reason: 'x' }, { caller: people.clerk }),
    ).rejects.toMatchObject({
      code: 'event_not_allowed',
    });
    await rt.send(id, { type: 'phase.extend', phase: 'intake', days: 4, reason: 'vendor late' }, { caller: people.manager });
    expect((await phasesOf(rt, id)).phases.intake).toMatchObject({ schedule: 'on_schedule', slaMs: 4 * DAY, atRiskMs: 2 * DAY });
    await sim.advance(2 * DAY);
    expect((await phasesOf(rt, id)).phases.intake!.schedule).toBe('at_risk');
    await rt.send(id, { type: 'phase.complete', phase: 'intake', reason: 'done offline' }, { caller: people.manager });
    expect(await statuses(rt, id)).toMatchObject({ intake: 'completed', legal: 'in_progress', finance: 'in_progress' });
    await rt.send(id, { type: 'phase.reopen', phase: 'intake', reason: 'amount was wrong' }, { caller: people.manager });
    expect(await statuses(rt, id)).toMatchObject({ intake: 'in_progress' });
    const h = (await rt.history(id)).filter((e) => e.type.startsWith('phase.'));
    expect(h.map((e) => [e.type, e.actor, (e.payload as { reason: string }).reason])).toEqual([
      ['phase.extend', 'u:max', 'vendor late'],
      ['phase.complete', 'u:max', 'done offline'],
      ['phase.reopen', 'u:max', 'amount was wrong'],
    ]);
  });

  it('a template: parameters set SLA days per phase and choose the phases (dependencies pass through)', async () => {
    const { sim, rt, reg } = await open({ sla: { intake: 10 }, phases: ['intake', 'finance', 'signoff'], id: 'review-lite', version: '2' });
    expect(reg.ref).toBe('review-lite@2');
    const { id } = await rt.start({ machine: 'review-lite', input: { kind: 'internal' } });
    expect((await phasesOf(rt, id)).phases.intake).toMatchObject({ slaMs: 10 * DAY, atRiskMs: 5 * DAY });
    await finish(rt, id, 'intake', people.clerk, { amount: 1 });
    await sim.settle();
    expect(await statuses(rt, id)).toEqual({ intake: 'completed', finance: 'skipped', signoff: 'in_progress' });
  });

  it('round trip: the compiled definition exports as the same JSON and builds to the same transitions', async () => {
    const { rt } = await open();
    const compiled = compilePhaseWorkflow(yaml, { catalog });
    if (!compiled.ok) throw new Error(JSON.stringify(compiled.issues));
    const exported = exportDefinition(rt.registry.resolve('review-flow').machine, '1').definition;
    expect(JSON.parse(JSON.stringify(exported))).toEqual(compiled.definition);
    const input = { kind: 'external' };
    const outputs = { enrichRequest: { band: 'low' } };
    const table = transitionTable(buildMachine(compiled.definition, catalog), input, outputs);
    expect(Object.keys(table).length).toBeGreaterThan(5);
    expect(transitionTable(buildMachine(JSON.parse(JSON.stringify(exported)), catalog), input, outputs)).toEqual(table);
  });
});

describe('YAML validation: every problem with its line', () => {
  /** Replaces `from` (which must occur) in the fixture and compiles. */
  const variant = (from: string, to: string) => {
    expect(yaml).toContain(from);
    const r = compilePhaseWorkflow(yaml.replace(from, to), { catalog, machineExists: (m) => m === 'known-child' });
    if (r.ok) throw new Error('expected problems');
    return r.issues;
  };

  // [what, replaced text, replacement, code, JSON Pointer, line] — lines of the fixture after the replacement.
  it.each([
    ['broken YAML syntax', 'roles: [clerk]', 'roles: [clerk', 'invalid_yaml', '', 13],
    ['the format marker of another version', 'statekeeper: phases/1', 'statekeeper: phases/9', 'invalid_value', '/statekeeper', 1],
    ['the format marker missing', 'statekeeper: phases/1\n', '', 'invalid_value', '/statekeeper', 1],
    ['an unknown key', 'name: Legal review', 'name: Legal review\n    colour: blue', 'unknown_key', '/phases/1/colour', 27],
    ['a phase without a name (at the phase)', '    name: Sign-off\n', '', 'invalid_value', '/phases/3/name', 41],
    ['a role with a space', 'roles: [legal]', 'roles: [legal team]', 'invalid_value', '/phases/1/roles/0', 27],
    ['an SLA unit that does not exist', 'unit: hours', 'unit: fortnights', 'invalid_value', '/phases/1/sla/unit', 29],
    ['a negative SLA duration', 'duration: 4', 'duration: -4', 'invalid_value', '/phases/1/sla/duration', 29],
    ['an at_risk share outside (0, 1)', 'at_risk: 0.5', 'at_risk: 1.5', 'invalid_value', '/schedule/at_risk', 6],
    [
      'a phase without activities',
      '      - id: sign\n        task: { title: Sign off }\n',
      '',
      'invalid_value',
      '/phases/3/activities',
      45,
    ],
    [
      'a dependency on a phase that does not exist',
      'depends_on: [legal, finance]',
      'depends_on: [legal, fiance]',
      'unknown_phase',
      '/phases/3/depends_on/1',
      44,
    ],
    [
      'a phase depending on itself',
      'depends_on: [legal, finance]',
      'depends_on: [legal, signoff]',
      'dependency_cycle',
      '/phases/3/depends_on/1',
      44,
    ],
    ['a duplicate phase id', '  - id: finance', '  - id: legal', 'duplicate_id', '/phases/2/id', 33],
    ['a duplicate activity id', '      - id: enrich', '      - id: register', 'duplicate_id', '/phases/0/activities/1/id', 22],
    ['an unknown step', 'step: enrichRequest', 'step: enrichRequests', 'unknown_actor', '/phases/0/activities/1/step', 23],
    ['an unknown child workflow', 'step: enrichRequest', 'workflow: nowhere', 'unknown_actor', '/phases/0/activities/1/workflow', 23],
    [
      'an activity that is both a task and a step',
      'task: { title: Check the contract }',
      'task: { title: Check }\n        step: enrichRequest',
      'invalid_value',
      '/phases/1/activities/0',
      31,
    ],
    ['a `when` that is not CEL', `when: "input.kind != 'internal'"`, 'when: "input.kind !=="', 'invalid_expression', '/phases/2/when', 37],
    [
      'an input expression that is not CEL',
      '$expr: "context.phases.intake.answers"',
      '$expr: "context.("',
      'invalid_expression',
      '/phases/0/activities/1/input/answers/$expr',
      24,
    ],
    ['a form that is not a JSON Schema', 'type: object', 'type: objekt', 'invalid_value', '/phases/0/activities/0/task/form', 19],
  ])('%s', (_what, from, to, code, path, line) => {
    const issues = variant(from, to);
    expect(issues[0]).toMatchObject({ code, path, line });
  });

  it('a cycle through several phases names each of them at its depends_on line', () => {
    const issues = variant('depends_on: [intake]\n    sla: { duration: 4', 'depends_on: [intake, signoff]\n    sla: { duration: 4');
    expect(issues.map((i) => [i.code, i.path, i.line])).toEqual([
      ['dependency_cycle', '/phases/1/depends_on', 28],
      ['dependency_cycle', '/phases/3/depends_on', 44],
    ]);
    expect(issues[0]!.message).toContain('legal → signoff → legal');
  });

  it('every problem is reported at once', () => {
    const issues = variant('roles: [legal]', 'roles: [legal team]\n    colour: blue');
    expect(issues.map((i) => [i.code, i.line])).toEqual([
      ['invalid_value', 27],
      ['unknown_key', 28],
    ]);
  });

  it.each([
    ['an SLA for a phase that does not exist', { sla: { nope: 3 } }, 'unknown_phase', '/parameters/sla/nope'],
    ['an SLA for a phase without sla', { sla: { signoff: 3 } }, 'invalid_value', '/parameters/sla/signoff'],
    ['a phase list naming an unknown phase', { phases: ['intake', 'audit'] }, 'unknown_phase', '/parameters/phases/1'],
    ['an at-risk share of 1', { atRisk: 1 }, 'invalid_value', '/parameters/atRisk'],
  ])('template parameters: %s', (_what, parameters, code, path) => {
    const r = compilePhaseWorkflow(yaml, { catalog, parameters: parameters as PhaseParameters });
    expect(r.ok ? [] : r.issues).toEqual([expect.objectContaining({ code, path })]);
  });
});
