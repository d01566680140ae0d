import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, test } from 'vitest';
import { createBundledSteps } from '../actors/index.ts';
import { createFakeClients } from '../actors/fake-clients.ts';
import { bundledMachines } from '../machines/index.ts';
import { createSimulation } from '../runtime/testing/index.ts';
import { loadConfig } from './config.ts';
import { BILLING_SCHEDULE_ID, configuredSchedules } from './schedule-config.ts';

const billing = bundledMachines.find((b) => b.machine.id === 'billing-run')!;

test('npm start declares the monthly billing run: on the 1st at 02:00 UTC it starts billing-run for the month before', async () => {
  const schedules = await configuredSchedules(loadConfig({}));
  expect(schedules.map((s) => s.id)).toEqual([BILLING_SCHEDULE_ID]);
  const sim = await createSimulation({
    machines: [{ machine: billing.machine, options: billing.options }],
    steps: createBundledSteps(createFakeClients().clients),
    startTime: new Date('2030-03-15T12:00:00Z'),
    schedules,
  });
  const view = await sim.runtime.schedules.get(BILLING_SCHEDULE_ID);
  expect(view).toMatchObject({ machine: 'billing-run', overlap: 'skip', catchUp: 'none', origin: 'code' });
  expect(view.nextTicks.slice(0, 2)).toEqual(['2030-04-01T02:00:00.000Z', '2030-05-01T02:00:00.000Z']);
  await sim.advance(17 * 86_400_000);
  const run = await sim.store.getByIdempotencyKey('default', `schedule:${BILLING_SCHEDULE_ID}:2030-04-01T02:00:00.000Z`);
  expect(run?.machineId).toBe('billing-run');
  expect((await sim.runtime.get(run!.id)).context).toMatchObject({ input: { period: '2030-03' } });
  await sim.runtime.close();
});

test('the billing schedule can be moved or turned off, and a schedules file (JSON or YAML) adds schedules', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'sk-schedules-'));
  const file = path.join(dir, 'schedules.yaml');
  await writeFile(file, '- id: nightly\n  machine: greeting\n  cron: "30 1 * * *"\n  timezone: Europe/Berlin\n  input: { name: night }\n');
  const env = { STATEKEEPER_BILLING_SCHEDULE: 'off', STATEKEEPER_SCHEDULES_FILE: file };
  expect(await configuredSchedules(loadConfig(env))).toEqual([
    { id: 'nightly', machine: 'greeting', cron: '30 1 * * *', timezone: 'Europe/Berlin', input: { name: 'night' } },
  ]);
  const moved = await configuredSchedules(
    loadConfig({ STATEKEEPER_BILLING_SCHEDULE: '0 6 2 * *', STATEKEEPER_BILLING_TIMEZONE: 'Asia/Tokyo' }),
  );
  expect(moved[0]).toMatchObject({ cron: '0 6 2 * *', timezone: 'Asia/Tokyo' });
  await writeFile(path.join(dir, 'bad.json'), '{"id":"x"}');
  await expect(configuredSchedules(loadConfig({ ...env, STATEKEEPER_SCHEDULES_FILE: path.join(dir, 'bad.json') }))).rejects.toThrow(
    /expected a list/,
  );
});
