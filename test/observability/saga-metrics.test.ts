import { expect, test } from 'vitest';
import { observeChanges } from '../../observability/changes.ts';
import { createLogger, logObserver } from '../../observability/logger.ts';
import { createMetrics } from '../../observability/metrics.ts';
import { combineObservers } from '../../runtime/observer.ts';
import { histogram, parseScrape } from '../support/prometheus.ts';
import { preparedLab, runUntilResting, seedSimulation, subscriberProvisioning } from '../support/seed-harness.ts';
import { lineCollector } from './trace-support.ts';

/** A provisioning on the lab with faults, its changes feeding metrics and operator log lines. */
async function run(faults: { system: string; operation: string }[]) {
  const { lab, input } = await preparedLab(subscriberProvisioning);
  for (const f of faults) lab.faults.inject({ ...f, mode: 'fail' } as never);
  const metrics = createMetrics();
  const out = lineCollector();
  const observer = combineObservers(metrics.observer, logObserver(createLogger({ destination: out })));
  const sim = await seedSimulation(lab, { observer });
  observeChanges(sim.runtime, observer);
  const { id } = await sim.runtime.start({ machine: 'subscriber-provisioning', input });
  const view = await runUntilResting(sim, id);
  await sim.settle();
  const observations = async (name: string, labels: Record<string, string>) => (await histogram(metrics.registry, name, labels)).count;
  return { id, view, scrape: parseScrape(await metrics.render()), lines: out.lines, observations };
}

const machine = 'subscriber-provisioning';

test('a saga that compensates: started, finished as rolled_back, a lookup and four undos done, none failed', async () => {
  const { id, view, scrape, lines, observations } = await run([{ system: 'onu', operation: 'activate' }]);
  expect(view.status).toBe('done');
  expect(scrape.value('statekeeper_instances_started_total', { machine })).toBe(1);
  expect(scrape.value('statekeeper_instances_finished_total', { machine, outcome: 'rolled_back' })).toBe(1);
  // The ONU step's outcome is unknown (a transient failure): its lookup by key is part of the roll back.
  expect(scrape.value('statekeeper_compensations_total', { machine, outcome: 'done' })).toBe(5);
  expect(scrape.value('statekeeper_compensations_total', { machine, outcome: 'failed' })).toBe(0);
  expect(scrape.value('statekeeper_compensations_failed_total', { machine })).toBe(0);
  const undos = lines.filter((l) => l.msg === 'compensation done');
  expect(undos.map((l) => l.compensation)).toEqual([
    'recover.onuActivation',
    'compensate.ipAllocation',
    'compensate.radiusAccount',
    'compensate.subscriber',
    'compensate.customer',
  ]);
  expect(undos.every((l) => l.instance_id === id)).toBe(true);
  expect(lines.find((l) => l.msg === 'instance finished')).toMatchObject({ instance_id: id, outcome: 'rolled_back' });
  // Step attempts as the runtime reports them: the ONU activation failed after its retries, the four undos ran once each.
  const failedOnu = scrape.value('statekeeper_step_attempts_total', { step: 'activateOnu', outcome: 'failed' });
  expect(failedOnu).toBeGreaterThanOrEqual(1);
  expect(scrape.value('statekeeper_step_retries_total', { step: 'activateOnu' })).toBe(failedOnu - 1);
  expect(lines.filter((l) => l.msg === 'step failed after its retries').map((l) => l.step)).toEqual(['activateOnu']);
  expect(await observations('statekeeper_event_apply_seconds', { machine, source: 'step' })).toBeGreaterThan(5);
  expect(await observations('statekeeper_step_duration_seconds', { step: 'activateOnu', outcome: 'failed' })).toBe(failedOnu);
});

test('a failing undo: compensation_failed counted once (the alert), logged as an error naming the instance', async () => {
  const { id, view, scrape, lines } = await run([
    { system: 'onu', operation: 'activate' },
    { system: 'ipam', operation: 'releaseAddress' },
  ]);
  expect(view.tags).toContain('compensation_failed');
  expect(scrape.value('statekeeper_compensations_failed_total', { machine })).toBe(1);
  expect(scrape.value('statekeeper_compensations_total', { machine, outcome: 'failed' })).toBe(1);
  expect(scrape.value('statekeeper_instances_finished_total', { machine, outcome: 'rolled_back' })).toBe(0);
  const errors = lines.filter((l) => l.level === 'error');
  expect(errors.map((l) => l.msg)).toEqual([
    'step failed after its retries',
    'compensation step failed after its retries',
    'compensation failed',
    'compensation failed for good: waiting for an operator (retry or resolve)',
  ]);
  expect(errors.every((l) => l.instance_id === id)).toBe(true);
});
