import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { createLab, startLabServer, type FaultSpec, type Lab, type LabServer } from '../lab/index.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { eventually } from './support/poll.ts';
import { startSagaWorker, type SagaWorker } from './support/saga-worker.ts';
import { fullProvisioningInput } from './support/seed-harness.ts';

/**
 * Saga crash tests: subscriber provisioning runs in a child process on
 * Postgres, its steps calling the lab over HTTP. The lab runs in this test
 * process, so it outlives the runtime, which is killed with SIGKILL while a
 * step or a compensation is in flight, or after the lab applied a call whose
 * result was never committed. A new process with the same worker id resumes
 * the instance: it must finish consistently, leave no orphan in the lab, and
 * no step may complete twice.
 */

interface CrashScenario {
  name: string;
  faults: FaultSpec[];
  /** The lab call whose arrival means the process is where it should be killed. */
  killWhen: { system: 'onu'; operation: 'activate' | 'deactivate' };
  /** Step (actor name) that never returns in the first process after the lab applied it. */
  hangAfter?: string;
  stateAtKill: unknown;
  /** Invoke id of the step interrupted by the kill. */
  interrupted: string;
  outcome: 'completed' | 'rolled_back';
}

const slow = (operation: 'activate' | 'deactivate'): FaultSpec => ({
  system: 'onu',
  operation,
  mode: 'latency',
  latencyMs: 60_000,
  times: 1,
});
const billingDown: FaultSpec = { system: 'billing', operation: 'addService', mode: 'fail' };

const scenarios: CrashScenario[] = [
  {
    name: 'a step in flight',
    faults: [slow('activate')],
    killWhen: { system: 'onu', operation: 'activate' },
    stateAtKill: { running: 'onuActivation' },
    interrupted: 'onuActivation',
    outcome: 'completed',
  },
  {
    name: 'a step applied in the lab but not committed',
    faults: [],
    hangAfter: 'activateOnu',
    killWhen: { system: 'onu', operation: 'activate' },
    stateAtKill: { running: 'onuActivation' },
    interrupted: 'onuActivation',
    outcome: 'completed',
  },
  {
    name: 'a compensation in flight',
    faults: [billingDown, slow('deactivate')],
    killWhen: { system: 'onu', operation: 'deactivate' },
    stateAtKill: { compensating: 'onuActivation' },
    interrupted: 'compensate.onuActivation',
    outcome: 'rolled_back',
  },
  {
    name: 'a compensation applied in the lab but not committed',
    faults: [billingDown],
    hangAfter: 'deactivateOnu',
    killWhen: { system: 'onu', operation: 'deactivate' },
    stateAtKill: { compensating: 'onuActivation' },
    interrupted: 'compensate.onuActivation',
    outcome: 'rolled_back',
  },
];

const FORWARD = ['customer', 'subscriber', 'radiusAccount', 'ipAllocation', 'onuActivation', 'cpeConfiguration', 'billingService'];
// The failed last step's outcome is unknown: it is looked up by its key (it applied nothing) before the undo.
const UNDO = [
  'recover.billingService',
  ...FORWARD.slice(0, -1)
    .reverse()
    .map((s) => `compensate.${s}`),
];

describe('subscriber-provisioning killed with SIGKILL and resumed by a new process', () => {
  let db: TestDatabase;
  let client: pg.Pool;
  let lab: Lab;
  let server: LabServer;
  let workers: SagaWorker[] = [];
  const spawn = async (env: Record<string, string> = {}) => {
    const w = await startSagaWorker({ DATABASE_URL: db.url, LAB_URL: server.url, WORKER_ID: 'saga-crash-worker', ...env });
    workers.push(w);
    return w;
  };
  const q = async <T extends pg.QueryResultRow = any>(sql: string, params: unknown[] = []) => (await client.query<T>(sql, params)).rows;

  beforeAll(async () => {
    db = await createTestDatabase();
    client = new pg.Pool({ connectionString: db.url, max: 2 });
    // pool.end() resolves before its clients' sockets close: the forced drop after the file may end one first,
    // and an idle client's error with no listener would be an uncaught exception of the test run.
    client.on('error', () => undefined);
    lab = createLab();
    server = await startLabServer(lab);
  });
  afterEach(async () => {
    for (const w of workers) await w.kill().catch(() => undefined);
    workers = [];
  });
  afterAll(async () => {
    await server?.close();
    await lab?.close();
    await client?.end();
    await db?.drop();
  });

  test.each(scenarios.map((s) => [s.name, s] as const))(
    'killed with %s: finishes consistently, no orphan, no step completed twice',
    async (_name, s) => {
      await lab.reset();
      for (const f of s.faults) lab.faults.inject(f);
      const first = await spawn(s.hangAfter ? { HANG_AFTER_STEP: s.hangAfter } : {});
      const { id } = await first.call('start', {
        machine: 'subscriber-provisioning',
        input: fullProvisioningInput(),
        idempotencyKey: `crash:${s.name}`,
      });

      // Kill once the call reached the lab (and, with hangAfter, once the lab answered it).
      await eventually(
        async () => lab.calls.count(s.killWhen.system, s.killWhen.operation) === 1,
        `${s.killWhen.operation} to reach the lab`,
      );
      if (s.hangAfter) {
        await eventually(
          async () => (await q(`select 1 from test_step_log where step = $1 and phase = 'done'`, [s.hangAfter])).length > 0,
          `${s.hangAfter} to be applied`,
        );
      }
      await first.kill();
      const [atKill] = await q(`select status, state_value from sk_instance where id = $1`, [id]);
      expect(atKill).toEqual({ status: 'active', state_value: s.stateAtKill });
      const [open] = await q(`select id, status, attempts from sk_effect where instance_id = $1 and name = $2`, [id, s.interrupted]);
      expect(open).toMatchObject({ status: 'pending', attempts: 1 });
      // Whatever was slow is fast again for the new process.
      lab.faults.clear({ system: 'onu' });

      await spawn();
      const [done] = await eventually(
        async () => {
          const rows = await q(`select status, output from sk_instance where id = $1 and status <> 'active'`, [id]);
          return rows.length ? rows : undefined;
        },
        'the instance to finish',
        30_000,
      );
      expect(done).toMatchObject({ status: 'done', output: { outcome: s.outcome } });

      // The interrupted invocation ran again with the same idempotency key, in the new process.
      const attempts = await q(
        `select idempotency_key, attempt, pid from test_step_log where idempotency_key = $1 and phase = 'start' order by id`,
        [open.id],
      );
      expect(attempts.map((a) => a.attempt)).toEqual([1, 2]);
      expect(attempts[0].pid).not.toBe(attempts[1].pid);
      expect((await q(`select status, attempts from sk_effect where id = $1`, [open.id]))[0]).toEqual({ status: 'done', attempts: 2 });

      // Every invocation completed exactly once, in order; history is gapless.
      const effects = await q(`select name, status from sk_effect where instance_id = $1 and kind = 'step' order by seq`, [id]);
      const expected = s.outcome === 'completed' ? FORWARD : [...FORWARD, ...UNDO];
      expect(effects.map((e) => e.name)).toEqual(expected);
      expect(effects.filter((e) => e.status === 'done')).toHaveLength(s.outcome === 'completed' ? FORWARD.length : expected.length - 1);
      const history = await q(`select seq, type from sk_event where instance_id = $1 order by seq`, [id]);
      expect(history.map((h) => h.seq)).toEqual(history.map((_, i) => i + 1));
      const completions = history.filter((h) => h.type.startsWith('xstate.done.actor.')).map((h) => h.type);
      expect(new Set(completions).size).toBe(completions.length);

      // The lab: one record per completed step, or nothing at all after the roll back.
      const live = await lab.liveRecords();
      if (s.outcome === 'completed') {
        expect(live.map((r) => `${r.system}/${r.kind}`).sort()).toEqual([
          'billing/service',
          'cpe/cpe-config',
          'customers/customer',
          'customers/subscriber',
          'ipam/ip-address',
          'onu/onu',
          'radius/account',
        ]);
      } else {
        expect(await lab.orphans()).toEqual([]);
      }
      expect(lab.calls.count(s.killWhen.system, s.killWhen.operation)).toBe(2);
    },
    90_000,
  );
});
