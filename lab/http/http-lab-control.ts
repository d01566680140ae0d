import type { Fault, FaultFilter, FaultSpec } from '../faults.ts';
import type { LiveRecord } from '../live-record.ts';
import type { SystemName } from '../operations.ts';
import type { LabRecords } from '../records.ts';
import { LabHttpTransport, type HttpClientsOptions } from './http-transport.ts';

/** What `GET /lab/records` answers. */
export interface LabRecordsReport {
  records: LabRecords;
  live: LiveRecord[];
  liveCount: number;
}

/** The lab's control routes from another process: faults, call counts, records, reset. */
export interface HttpLabControl {
  faults: {
    inject<S extends SystemName>(spec: FaultSpec<S>): Promise<Fault>;
    list(): Promise<Fault[]>;
    clear(filter?: FaultFilter): Promise<number>;
  };
  /** Call counts keyed `system.operation`. */
  calls(): Promise<Record<string, number>>;
  records(): Promise<LabRecordsReport>;
  reset(): Promise<void>;
  setDeclinedAccounts(accounts: readonly string[]): Promise<void>;
}

/**
 * Drives a lab service's control routes, as a test in another process does.
 *
 * @example
 * ```ts
 * const control = createHttpLabControl('http://localhost:4010');
 * await control.faults.inject({ system: 'onu', operation: 'activate', mode: 'fail', times: 2 });
 * expect((await control.records()).liveCount).toBe(0);
 * ```
 */
export function createHttpLabControl(baseUrl: string, options: HttpClientsOptions = {}): HttpLabControl {
  const http = new LabHttpTransport(baseUrl, options);
  return {
    faults: {
      inject: (spec) => http.send('lab', 'injectFault', { method: 'POST', path: '/lab/faults', body: spec }),
      list: () => http.send('lab', 'listFaults', { method: 'GET', path: '/lab/faults' }),
      clear: async (filter = {}) => {
        const query = new URLSearchParams(Object.entries(filter).filter(([, v]) => v !== undefined)).toString();
        const path = `/lab/faults${query ? `?${query}` : ''}`;
        const answer = await http.send<{ cleared: number }>('lab', 'clearFaults', { method: 'DELETE', path });
        return answer.cleared;
      },
    },
    calls: () => http.send('lab', 'calls', { method: 'GET', path: '/lab/calls' }),
    records: () => http.send('lab', 'records', { method: 'GET', path: '/lab/records' }),
    reset: () => http.send('lab', 'reset', { method: 'POST', path: '/lab/reset' }),
    setDeclinedAccounts: (accounts) =>
      http.send('lab', 'setDeclinedAccounts', { method: 'PUT', path: `/lab/payments/declined-accounts`, body: { accounts } }),
  };
}
