import type { Engine } from './engine.ts';
import type { InstanceQueries } from './queries.ts';
import { declaresEvent, OPERATOR_EVENTS, type OperatorEvents } from './operator-events.ts';
import type { Registry } from './registry.ts';
import type { Caller, InstanceView, SendOptions, SendResult } from './types.ts';

/** Options of the operator commands. */
export type OperationOptions = Omit<SendOptions, 'source'>;

/**
 * Operator commands: retry, cancel and stop. Each is an ordinary event
 * through the engine loop (source `operator`), decided by the machine when it
 * defines the command and by the runtime's stop otherwise.
 */
export class Operations {
  constructor(private readonly o: { engine: Engine; queries: InstanceQueries; registry: Registry }) {}

  /**
   * Stops an instance from outside: status `stopped`, open effects cancelled,
   * running steps aborted, child instances stopped. Idempotent.
   */
  async stop(instanceId: string, reason = 'stopped', options: { tenant?: string; caller?: Caller } = {}): Promise<InstanceView> {
    const current = await this.o.queries.get(instanceId, options);
    if (current.status !== 'active') return current;
    await this.o.engine.stop(instanceId, reason, options);
    return this.o.queries.get(instanceId);
  }

  /**
   * Pauses an active instance (recorded in history as `statekeeper.pause` with the caller and reason):
   * until it is resumed no step, timer, delivery or child start of it is dispatched, events from callers
   * are refused with `instance_paused`, and timers and sends that come due are held. Steps already running
   * finish and their results are applied (what they plan waits too). Idempotent; an instance that is not
   * active is refused with `instance_not_active`.
   */
  async pause(instanceId: string, options: OperationOptions & { reason?: string } = {}): Promise<InstanceView> {
    await this.o.engine.pause(instanceId, options.reason, options);
    return this.o.queries.get(instanceId);
  }

  /**
   * Resumes a paused instance (`statekeeper.resume` in history): what came due while it was paused is
   * dispatched now, in due order. Idempotent.
   */
  async resume(instanceId: string, options: OperationOptions & { reason?: string } = {}): Promise<InstanceView> {
    await this.o.engine.resume(instanceId, options.reason, options);
    return this.o.queries.get(instanceId);
  }

  /**
   * Sends the retry event (`operator.retry` unless mapped) when the current state accepts it (a saga waiting
   * after a failed compensation or step). Idempotent: when there is nothing
   * to retry, reports `handled: false` and changes nothing.
   */
  async retry(instanceId: string, options: OperationOptions = {}): Promise<SendResult> {
    const d = await this.o.queries.describe(instanceId, options);
    // In error (quarantined): restored with the newest registered version of its machine, the failed event re-applied.
    if (d.status === 'error') return this.o.engine.revive(instanceId, { tenant: options.tenant, caller: options.caller });
    const { retry } = this.eventsOf(d.machine);
    if (d.status !== 'active' || !d.acceptedEvents.some((e) => e.type === retry)) {
      return { instanceId, handled: false, duplicate: false, value: d.value, status: d.status, tags: d.tags, version: d.version };
    }
    return this.send(instanceId, { type: retry }, options);
  }

  /**
   * Cancels an instance. A machine that defines the cancel event (`workflow.cancel` unless mapped) decides what
   * cancelling means: the event is sent when the current state accepts it (a
   * saga then compensates what was done), and when it does not (a saga already
   * compensating, or past its point of no return) nothing changes. A machine
   * without `workflow.cancel` is stopped. Idempotent.
   */
  async cancel(instanceId: string, options: OperationOptions & { reason?: string } = {}): Promise<InstanceView> {
    const d = await this.o.queries.describe(instanceId, options);
    if (d.status !== 'active') return d;
    const { cancel } = this.eventsOf(d.machine);
    if (d.acceptedEvents.some((e) => e.type === cancel)) {
      await this.send(instanceId, { type: cancel, ...(options.reason ? { reason: options.reason } : {}) }, options);
      return this.o.queries.get(instanceId);
    }
    const reg = this.o.registry.find(d.machine.id, d.machine.version);
    if (reg && declaresEvent(reg.machine.root, cancel)) return d;
    return this.stop(instanceId, options.reason ?? 'cancelled', options);
  }

  /** The operator events of the instance's registered version (the defaults when it is not registered here). */
  private eventsOf(machine: { id: string; version: string }): OperatorEvents {
    return this.o.registry.find(machine.id, machine.version)?.operatorEvents ?? OPERATOR_EVENTS;
  }

  private send(instanceId: string, event: { type: string } & Record<string, unknown>, options: OperationOptions): Promise<SendResult> {
    const { tenant, caller, idempotencyKey } = options;
    return this.o.engine.apply(instanceId, event, { source: 'operator', tenant, caller, idempotencyKey });
  }
}
