/** What every view of the dashboard gets and gives. */
import type { Task } from '../api.ts';
import type { DashboardContext } from '../store.ts';

/** Commands a view may ask for; the controller runs them through the API and updates the store. */
export interface Actions {
  setFilters(filters: Partial<DashboardContext['filters']>): void;
  sendEvent(id: string, type: string, payload: Record<string, unknown>): Promise<void>;
  retry(id: string): Promise<void>;
  cancel(id: string, reason: string): Promise<void>;
  start(machine: string, input: unknown): Promise<void>;
  setTaskFilters(filters: Partial<DashboardContext['taskFilters']>): void;
  /** A task with its answer form. */
  task(taskId: string): Promise<Task>;
  claimTask(taskId: string, instanceId?: string): Promise<void>;
  /** Completes a task with an answer; resolves false when the API refused it (the reason is shown). */
  completeTask(taskId: string, answer: unknown, instanceId?: string): Promise<boolean>;
  /** Mermaid text of a machine version, loaded once per ref. */
  diagram(ref: string): Promise<string>;
}

/** A mounted view: called with each new store snapshot, destroyed when the route changes. */
export interface View {
  update(ctx: DashboardContext): void;
  destroy?(): void;
}

/** A small status badge (`status-active`, `status-rolled_back`, …). */
export function badgeClass(status: string): string {
  return `badge status-${status.replace(/[^a-z_]/g, '')}`;
}
