/**
 * One chaos run: the cluster, clients running scenarios, lab faults, N
 * SIGKILLs of the server at random moments and one database restart; then
 * faults off, a drain until nothing moves, and the observation.
 */
import { createHttpLabControl } from '../../lab/http/http-lab-control.ts';
import { ApiClient } from './api-client.ts';
import { Cluster } from './cluster.ts';
import { startFaults } from './fault-injector.ts';
import type { AckedEvent, AckedStart, Observation } from './observation.ts';
import { movingCount, observeInstances, observeLab } from './observe.ts';
import * as scenarios from './scenarios.ts';

export interface RunOptions {
  kills: number;
  clients: number;
  /** Longest and shortest uptime between two kills. */
  minUpMs: number;
  maxUpMs: number;
  faultEveryMs: number;
  drainMs: number;
  keep: boolean;
  log: (line: string) => void;
}

export interface RunResult {
  observation: Observation;
  stats: {
    kills: number;
    databaseRestarts: number;
    faults: Record<string, number>;
    durationMs: number;
    drainedMs: number;
    stillMoving: number;
  };
}

export async function chaosRun(o: RunOptions): Promise<RunResult> {
  const began = Date.now();
  const cluster = await Cluster.start(o.log);
  try {
    const api = new ApiClient(cluster.base, () => cluster.apiKey);
    const starts: AckedStart[] = [];
    const events: AckedEvent[] = [];
    let n = 0;
    const lab = createHttpLabControl(cluster.labUrl);
    const bench: scenarios.Workbench = {
      api,
      run: Math.random().toString(36).slice(2, 7),
      starts,
      events,
      next: () => ++n,
      openAccounts: async () => (await lab.records().catch(() => undefined))?.records.billing.accounts.map((a) => a.accountId) ?? [],
    };
    let stopping = false;
    const client = async (c: number) => {
      for (let i = 0; !stopping; i++) {
        const r = Math.random();
        if (c === 0 && i % 12 === 11) await scenarios.billingRun(bench);
        else if (r < 0.35) await scenarios.provisioning(bench, Math.random());
        else if (r < 0.5) await scenarios.cancelledProvisioning(bench, Math.random());
        else if (r < 0.65) await scenarios.tenantProvisioning(bench);
        else if (r < 0.85) await scenarios.signUp(bench, Math.random());
        else await scenarios.greeting(bench);
      }
    };
    const clients = Array.from({ length: o.clients }, (_, c) => client(c));
    const faults = startFaults(cluster.labUrl, o.faultEveryMs);
    let databaseRestarts = 0;
    for (let k = 1; k <= o.kills; k++) {
      await new Promise((r) => setTimeout(r, o.minUpMs + Math.random() * (o.maxUpMs - o.minUpMs)));
      if (k === Math.ceil(o.kills / 2) && databaseRestarts === 0) {
        o.log(`chaos: restarting PostgreSQL`);
        await cluster.restartDatabase(1500);
        databaseRestarts++;
      }
      await cluster.killAndRestartServer();
      o.log(`chaos: kill ${k}/${o.kills} (${starts.length} starts, ${events.length} events acknowledged)`);
    }
    stopping = true;
    await faults.stop();
    o.log('chaos: kills done; clients finish their scenarios, faults cleared');
    await Promise.all(clients);
    const drainStart = Date.now();
    let stillMoving = await movingCount(cluster.runtimeDatabaseUrl, api);
    while (stillMoving > 0 && Date.now() - drainStart < o.drainMs) {
      await new Promise((r) => setTimeout(r, 2000));
      stillMoving = await movingCount(cluster.runtimeDatabaseUrl, api);
    }
    o.log(`chaos: drained in ${Math.round((Date.now() - drainStart) / 1000)} s; observing`);
    const observation: Observation = {
      starts,
      events,
      instances: await observeInstances(cluster.runtimeDatabaseUrl, api),
      lab: await observeLab(cluster.labUrl),
      serverErrors: api.serverErrors,
      downWindows: cluster.downWindows,
      crashes: cluster.crashes,
    };
    return {
      observation,
      stats: {
        kills: o.kills,
        databaseRestarts,
        faults: faults.injected,
        durationMs: Date.now() - began,
        drainedMs: Date.now() - drainStart,
        stillMoving,
      },
    };
  } finally {
    await cluster.stop(o.keep);
  }
}
