import { describe, expect, test } from 'vitest';
import type { FaultSpec } from '../lab/index.ts';
import type { StepContext, StepImplementation, StepRegistry } from '../runtime/step-types.ts';
import { sagaMetaOf } from '../machines/index.ts';
import type { InstanceView, Runtime } from '../runtime/index.ts';
import type { InstanceStore } from '../runtime/ports.ts';
import { MemoryStore } from '../runtime/testing/index.ts';
import {
  historyTrace,
  isForwardOnly,
  machineOf,
  preparedLab,
  runUntilResting,
  sagaSpecs,
  seedSimulation,
  waitsForOperator,
  type SagaSpec,
  type SeedSimulation,
} from './support/seed-harness.ts';

/**
 * Persistence across runtimes, at every state a seed saga reaches with the
 * lab: a runtime is shut down while the instance sits in that state (its step
 * in flight, or waiting for an operator), and a NEW runtime on the same store,
 * reading every record back through JSON as Postgres would hand it, finishes
 * the instance. It must end exactly as an uninterrupted run does: same final
 * state and output, same history, same records in the lab.
 */

interface Scenario {
  spec: SagaSpec;
  name: string;
  outcome: 'completed' | 'rolled_back' | 'cancelled';
  faults: FaultSpec[];
  /** An operator sends `workflow.cancel` while this step runs. */
  cancelDuring?: string;
  /** The run waits for an operator (a failed undo, or a failed step past the pivot), who clears the faults and retries. */
  operatorWait?: boolean;
}

function scenariosOf(spec: SagaSpec): Scenario[] {
  const fail = (op: { system: string; operation: string }) => ({ ...op, mode: 'fail' }) as FaultSpec;
  const opKey = (op: { system: string; operation: string }) => `${op.system}.${op.operation}`;
  const actions = new Set(spec.steps.map((s) => opKey(s.action)));
  // Steps before the pivot (all of them in a saga without one): a failure or a cancel there rolls back.
  const reversible = spec.steps.filter((s) => !isForwardOnly(spec.machine, s.name));
  const lastReversible = reversible.at(-1)!;
  const pivot = spec.steps.find((s) => isForwardOnly(spec.machine, s.name));
  // An undo that can fail on its own: its operation is no step's action (not so for status changes).
  const stuck = spec.steps.find((s, i) => i > 0 && i < spec.steps.length - 1 && s.compensation && !actions.has(opKey(s.compensation)));
  // A failure after the stuck step leads into its undo; when no reversible step follows it, a cancel while it runs does.
  const undoOf = (s: typeof stuck & {}): Scenario =>
    s === lastReversible
      ? {
          spec,
          name: `undo of ${s.name} fails until an operator retries (cancelled while it runs)`,
          outcome: 'cancelled',
          faults: [fail(s.compensation!)],
          cancelDuring: s.name,
          operatorWait: true,
        }
      : {
          spec,
          name: `undo of ${s.name} fails until an operator retries`,
          outcome: 'rolled_back',
          faults: [fail(lastReversible.action), fail(s.compensation!)],
          operatorWait: true,
        };
  return [
    { spec, name: 'completes', outcome: 'completed', faults: [] },
    ...spec.steps.map(
      (s): Scenario =>
        isForwardOnly(spec.machine, s.name)
          ? // Past the pivot nothing is undone: it waits in `running.<step>_failed` until an operator retries.
            {
              spec,
              name: `fails at ${s.name} until an operator retries`,
              outcome: 'completed',
              faults: [fail(s.action)],
              operatorWait: true,
            }
          : { spec, name: `fails at ${s.name}`, outcome: 'rolled_back', faults: [fail(s.action)] },
    ),
    ...(stuck ? [undoOf(stuck)] : []),
    // The only way into the last reversible step's undo.
    { spec, name: `cancelled while ${lastReversible.name} runs`, outcome: 'cancelled', faults: [], cancelDuring: lastReversible.name },
    // Once the pivot started a cancel is refused: the saga completes.
    ...(pivot
      ? [{ spec, name: `cancel refused while ${pivot.name} runs`, outcome: 'completed' as const, faults: [], cancelDuring: pivot.name }]
      : []),
  ];
}

const DATE_FIELDS = new Set(['createdAt', 'updatedAt', 'closedAt', 'dueAt', 'leaseUntil']);
const viaJson = (value: unknown) =>
  value === undefined
    ? value
    : JSON.parse(JSON.stringify(value), (k, v) => (DATE_FIELDS.has(k) && typeof v === 'string' ? new Date(v) : v));

/** The store as a database hands it back: every record read goes through JSON (dates revived). */
function jsonStore(store: InstanceStore): InstanceStore {
  return new Proxy(store, {
    get(target, prop) {
      const member = Reflect.get(target, prop, target);
      return typeof member === 'function' ? async (...args: unknown[]) => viaJson(await member.apply(target, args)) : member;
    },
  });
}

/** Where a run is cut: at the n-th step invocation (its first attempt), or when it first waits for an operator. */
type Cut = { atInvocation: number } | { atOperatorWait: true } | null;

/** Runs a scenario to its end on `sim`; with a cut, shuts the runtime down there and reports where it stood. */
async function play(
  sim: SeedSimulation,
  scenario: Scenario,
  id: string,
  cut: Cut,
  isClosed: () => boolean,
  lab: { faults: { clear(): number } },
) {
  for (let retries = 0; ; retries++) {
    if (retries > 3) throw new Error(`${scenario.spec.machine} (${scenario.name}) still waits for an operator after ${retries} retries`);
    const view = await runUntilResting(sim, id, isClosed);
    if (isClosed()) return view;
    if (!waitsForOperator(view)) return view;
    if (cut && 'atOperatorWait' in cut) return view;
    lab.faults.clear();
    expect(await sim.runtime.retry(id)).toMatchObject({ handled: true });
  }
}

/** Step implementations that hang at the n-th distinct invocation and shut the runtime down there. */
function cutAt(n: number, shutDown: () => void) {
  return (steps: StepRegistry): StepRegistry => {
    const keys: string[] = [];
    const wrap = (impl: StepImplementation) => ({
      ...impl,
      run: (input: unknown, ctx: StepContext) => {
        if (!keys.includes(ctx.idempotencyKey)) keys.push(ctx.idempotencyKey);
        if (keys.indexOf(ctx.idempotencyKey) !== n - 1) return impl.run(input, ctx);
        const hung = new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true }));
        queueMicrotask(shutDown);
        return hung;
      },
    });
    return Object.fromEntries(Object.entries(steps).map(([name, impl]) => [name, wrap(impl as StepImplementation)]));
  };
}

/** Step implementations that send `workflow.cancel` when `step` starts, unless a cancel was already recorded. */
function cancelDuring(step: string, runtime: () => Runtime) {
  return (steps: StepRegistry): StepRegistry =>
    Object.fromEntries(
      Object.entries(steps).map(([name, impl]) => {
        const { run } = impl as StepImplementation;
        return [
          name,
          {
            ...(impl as StepImplementation),
            run: async (input: unknown, ctx: StepContext) => {
              // Idempotency keys are `instanceId:invokeId:generation`; the invoke id is the step name.
              if (ctx.idempotencyKey.split(':')[1] === step) {
                const { context } = await runtime().get(ctx.instanceId);
                if ((context as { cancellation: unknown }).cancellation === null) {
                  await runtime().send(ctx.instanceId, { type: 'workflow.cancel', reason: 'operator' }, { source: 'operator' });
                }
              }
              return run(input, ctx);
            },
          },
        ];
      }),
    );
}

const finalOf = (v: InstanceView) => ({ status: v.status, value: v.value, output: v.output, context: v.context });

/** One run of the scenario on a fresh lab, cut or not; the cut run continues in a second runtime. */
async function runScenario(scenario: Scenario, cut: Cut) {
  const { lab, input } = await preparedLab(scenario.spec);
  for (const f of scenario.faults) lab.faults.inject(f);
  const store = new MemoryStore();
  let closing: Promise<void> | undefined;
  let first: SeedSimulation | undefined;
  const shutDown = () => void (closing ??= first!.runtime.close());
  let current: SeedSimulation | undefined;
  const cancels = scenario.cancelDuring ? cancelDuring(scenario.cancelDuring, () => current!.runtime) : (steps: StepRegistry) => steps;
  const cuts = cut && 'atInvocation' in cut ? cutAt(cut.atInvocation, shutDown) : (steps: StepRegistry) => steps;
  first = current = await seedSimulation(lab, { store, wrap: (steps) => cuts(cancels(steps)) });
  const id = 'instance-1';
  await first.runtime.start({ machine: scenario.spec.machine, input, instanceId: id });
  let view = await play(first, scenario, id, cut, () => closing !== undefined, lab);
  const invocations = new Set((await store.effects(id)).filter((e) => e.kind === 'step').map((e) => e.id)).size;
  let cutIn: unknown;
  if (cut && (closing || view.status === 'active')) {
    shutDown();
    await closing;
    const record = (await store.get(id))!;
    cutIn = record.stateValue;
    // Everything persisted is plain JSON.
    expect(viaJson(record.snapshot)).toEqual(record.snapshot);
    for (const e of await store.effects(id))
      expect(viaJson({ input: e.input, result: e.result })).toEqual({ input: e.input, result: e.result });
    const second = (current = await seedSimulation(lab, { store: jsonStore(store), startTime: first.clock.now(), wrap: cancels }));
    view = await play(second, scenario, id, null, () => false, lab);
    expect(second.errors).toEqual([]);
    first = second;
  }
  expect(first.errors).toEqual([]);
  return { view, invocations, cutIn, history: await historyTrace(first, id), live: await lab.liveRecords() };
}

// State values the instance was cut in, per machine; checked against the machine's states at the end.
const covered = new Map<string, Set<string>>();
let cutRuns = 0;
const label = (value: unknown) => (typeof value === 'string' ? value : Object.entries(value as object).map(([k, v]) => `${k}.${v}`)[0]!);

describe.each(sagaSpecs.map((s) => [s.machine, s] as const))(
  '%s: shut down in every state, finished by a new runtime',
  (machineId, spec) => {
    test.each(scenariosOf(spec).map((s) => [s.name, s] as const))('%s', async (_name, scenario) => {
      const reference = await runScenario(scenario, null);
      expect(reference.view).toMatchObject({ status: 'done', output: { outcome: scenario.outcome } });
      const states = covered.get(machineId) ?? new Set<string>();
      covered.set(machineId, states);
      const cuts: Cut[] = Array.from({ length: reference.invocations }, (_, i) => ({ atInvocation: i + 1 }));
      if (scenario.operatorWait) cuts.push({ atOperatorWait: true });
      for (const cut of cuts) {
        const resumed = await runScenario(scenario, cut);
        cutRuns++;
        const where = JSON.stringify({ cut, in: resumed.cutIn });
        expect(resumed.cutIn, where).toBeDefined();
        states.add(label(resumed.cutIn));
        expect(finalOf(resumed.view), where).toEqual(finalOf(reference.view));
        expect(resumed.history, where).toEqual(reference.history);
        expect(resumed.live, where).toEqual(reference.live);
      }
    });
  },
);

test('every step and every undo state of every saga was a cut point', () => {
  console.log(
    `restore: ${cutRuns} runs cut and finished by a new runtime; states: ${[...covered].map(([m, s]) => `${m} ${s.size}`).join(', ')}`,
  );
  for (const spec of sagaSpecs) {
    const meta = sagaMetaOf(machineOf(spec.machine))!;
    const expected = [
      ...meta.steps.map((s) => `running.${s.name}`),
      // A forward-only step (the pivot or after it) that failed for good waits there for an operator.
      ...meta.steps.filter((s) => s.forwardOnly).map((s) => `running.${s.name}_failed`),
      ...meta.steps.filter((s) => s.compensation).map((s) => `compensating.${s.name}`),
    ];
    const states = covered.get(spec.machine) ?? new Set();
    for (const state of expected) expect(states.has(state), `${spec.machine} was never cut in ${state}`).toBe(true);
    if (scenariosOf(spec).some((s) => s.name.startsWith('undo of')))
      expect([...states].some((s) => /^compensating\..*_failed$/.test(s))).toBe(true);
  }
});
