import { context, trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { threeSteps } from '../test/fixtures/machines.ts';
import { ATTR, SPAN } from './telemetry.ts';
import { createSimulation } from './testing/index.ts';

const exporter = new InMemorySpanExporter();
beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
});
afterAll(() => {
  trace.disable();
  context.disable();
});

test('each applied event and each step attempt is a span with instance, machine, event, states, key and attempt', async () => {
  let failOnce = true;
  const sim = await createSimulation({
    machines: [{ machine: threeSteps, options: { version: '7' } }],
    steps: {
      stepA: async () => ({ a: 1 }),
      stepB: async () => {
        if (failOnce) {
          failOnce = false;
          throw new Error('flaky');
        }
        return { b: 1 };
      },
      stepC: async () => ({ c: 1 }),
    },
  });
  const { id } = await sim.runtime.start({ machine: 'three-steps', input: { n: 1 } });
  await sim.advance(5_000);
  const spans = exporter.getFinishedSpans();
  const events = spans.filter((s) => s.name === SPAN.event);
  expect(events.map((s) => s.attributes[ATTR.eventType])).toEqual(['xstate.done.actor.a', 'xstate.done.actor.b', 'xstate.done.actor.c']);
  expect(events[0]!.attributes).toMatchObject({
    [ATTR.instanceId]: id,
    [ATTR.machine]: 'three-steps@7',
    [ATTR.stateBefore]: 'a',
    [ATTR.stateAfter]: 'b',
    [ATTR.eventSource]: 'step',
  });
  const steps = spans.filter((s) => s.name === SPAN.step);
  const b = steps.filter((s) => s.attributes[ATTR.stepName] === 'stepB');
  expect(b.map((s) => s.attributes[ATTR.attempt])).toEqual([1, 2]);
  expect(b.map((s) => s.attributes[ATTR.outcome])).toEqual(['failed', 'done']);
  expect(new Set(b.map((s) => s.attributes[ATTR.idempotencyKey]))).toEqual(new Set([`${id}:b:2`]));
  // All spans of the instance share the trace started with it.
  const start = spans.find((s) => s.name === SPAN.start)!;
  expect(new Set([...events, ...steps].map((s) => s.spanContext().traceId))).toEqual(new Set([start.spanContext().traceId]));
});

test('a migration is a span of the instance\u2019s trace, with the versions and whether it was a dry run', async () => {
  const sim = await createSimulation({
    machines: [{ machine: threeSteps, options: { version: '1' } }],
    steps: { stepA: () => new Promise(() => {}), stepB: async () => ({ b: 1 }), stepC: async () => ({ c: 1 }) },
  });
  const { id } = await sim.runtime.start({ machine: 'three-steps', input: { n: 1 } });
  sim.runtime.register(threeSteps.provide({}), { version: '2' });
  await sim.runtime.migrateInstance(id, { to: '2' });
  await sim.runtime.migrateInstance(id, { to: '2', dryRun: false });
  const spans = exporter.getFinishedSpans();
  const migrations = spans.filter((s) => s.name === SPAN.migrate && s.attributes[ATTR.instanceId] === id);
  expect(
    migrations.map((s) => [s.attributes[ATTR.migrationFrom], s.attributes[ATTR.migrationTo], s.attributes[ATTR.migrationDryRun]]),
  ).toEqual([
    ['1', '2', true],
    ['1', '2', false],
  ]);
  const start = spans.find((s) => s.name === SPAN.start && s.attributes[ATTR.instanceId] === id)!;
  expect(new Set(migrations.map((s) => s.spanContext().traceId))).toEqual(new Set([start.spanContext().traceId]));
  await sim.runtime.close();
});
