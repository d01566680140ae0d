import type { CallOptions, CpeClient } from '../actors/clients/index.ts';
import type { CallGate } from './call-gate.ts';
import { LabError } from './errors.ts';
import type { IdSequence } from './ids.ts';
import { LabState, type Table, type Tables } from './lab-state.ts';
import type { LiveRecord } from './live-record.ts';

/** A GenieACS parameter value: `[path, value, xsdType?]`. */
export type ParameterValue = [string, string | number | boolean, string?];

/** A GenieACS NBI task as `POST /devices/{id}/tasks` answers it. */
export type CpeTask =
  | { _id: string; name: 'setParameterValues'; device: string; parameterValues: ParameterValue[]; timestamp: string }
  | { _id: string; name: 'factoryReset'; device: string; timestamp: string };

/** The configuration the lab has applied to one device since its last reset. */
export interface CpeConfig {
  deviceId: string;
  /** Parameter path → value, the latest value per path. */
  parameters: Record<string, string | number | boolean>;
  taskIds: string[];
}

/**
 * CPE configuration through GenieACS NBI tasks.
 *
 * @remarks Tasks run at once, as with `?connection_request` on a reachable
 * device. `configure` merges parameters into the device's configuration;
 * `reset` (a `factoryReset` task) forgets it, and resetting a device with no
 * configuration still queues a task, as GenieACS does.
 */
export class CpeSystem {
  private readonly configs: Table<CpeConfig>;
  private readonly taskLog: Table<CpeTask>;

  constructor(
    private readonly ids: IdSequence,
    private readonly now: () => Date = () => new Date(),
    tables: Tables = new LabState(),
  ) {
    this.configs = tables.table('cpe.config');
    this.taskLog = tables.table('cpe.task');
  }

  /** Runs a `setParameterValues` task on the device. */
  configure(req: { deviceId: string; parameterValues: ParameterValue[] }): CpeTask {
    if (!req.deviceId?.trim()) throw LabError.invalid('cpe', 'configure', 'deviceId must not be empty');
    if (
      !Array.isArray(req.parameterValues) ||
      req.parameterValues.length === 0 ||
      req.parameterValues.some((p) => !Array.isArray(p) || typeof p[0] !== 'string' || p[1] === undefined)
    ) {
      throw LabError.invalid('cpe', 'configure', 'parameterValues must be a non-empty list of [path, value, type?]');
    }
    const task: CpeTask = {
      _id: this.ids.nextObjectId('cpe-task'),
      name: 'setParameterValues',
      device: req.deviceId,
      parameterValues: structuredClone(req.parameterValues),
      timestamp: this.now().toISOString(),
    };
    const config = this.configs.get(req.deviceId) ?? { deviceId: req.deviceId, parameters: {}, taskIds: [] };
    for (const [path, value] of req.parameterValues) config.parameters[path] = value;
    config.taskIds.push(task._id);
    this.configs.set(req.deviceId, config);
    this.taskLog.set(task._id, task);
    return structuredClone(task);
  }

  /** Runs a `factoryReset` task: the device loses the lab's configuration. */
  reset(deviceId: string): CpeTask {
    if (!deviceId?.trim()) throw LabError.invalid('cpe', 'reset', 'deviceId must not be empty');
    const task: CpeTask = {
      _id: this.ids.nextObjectId('cpe-task'),
      name: 'factoryReset',
      device: deviceId,
      timestamp: this.now().toISOString(),
    };
    this.configs.delete(deviceId);
    this.taskLog.set(task._id, task);
    return structuredClone(task);
  }

  /** A task by id. */
  task(taskId: string): CpeTask | undefined {
    const task = this.taskLog.get(taskId);
    return task && structuredClone(task);
  }

  /** Every task run, oldest first. */
  tasks(): CpeTask[] {
    return structuredClone([...this.taskLog.values()]);
  }

  /** Devices configured and not reset since. */
  records(): CpeConfig[] {
    return [...this.configs.values()].map((c) => structuredClone(c));
  }

  /** One live record per configured device. */
  liveRecords(): LiveRecord[] {
    return this.records().map((c) => ({ system: 'cpe', kind: 'cpe-config', id: c.deviceId }));
  }

  /** Forgets every configuration and task. */
  resetAll(): void {
    this.configs.clear();
    this.taskLog.clear();
  }
}

/** The {@link CpeClient} of a {@link CpeSystem}, through the lab's call gate. */
export function createCpeClient(system: CpeSystem, gate: CallGate): CpeClient {
  const run = (operation: keyof CpeClient, o: CallOptions, apply: () => CpeTask) =>
    gate.mutate('cpe', operation, o, async () => ({ taskId: apply()._id }));
  return {
    configure: (req, o) => run('configure', o, () => system.configure(req)),
    reset: (deviceId, o) => run('reset', o, () => system.reset(deviceId)),
  };
}
