import { check, clean, type Figures } from './checker.ts';
import type { Observation } from './observation.ts';

/** A small run in which nothing went wrong. */
export function cleanObservation(): Observation {
  return {
    starts: [{ machine: 'subscriber-provisioning', key: 'start-1', instanceId: 'i1' }],
    events: [{ instanceId: 'i2', key: 'confirm-1', type: 'greeting.confirm' }],
    instances: [
      {
        id: 'i1',
        machine: 'subscriber-provisioning',
        parentId: null,
        idempotencyKey: 'start-1',
        status: 'done',
        workflowStatus: 'completed',
        seqs: [1, 2, 3],
        eventKeys: {},
        refs: ['cust_000001', '1'],
      },
      {
        id: 'i2',
        machine: 'greeting',
        parentId: null,
        idempotencyKey: 'start-2',
        status: 'done',
        workflowStatus: 'completed',
        seqs: [1, 2],
        eventKeys: { 'confirm-1': 1 },
        refs: [],
      },
    ],
    lab: [
      { system: 'customers', kind: 'customer', id: 'cust_000001', natural: 'ada@example.net' },
      { system: 'ipam', kind: 'ip-address', id: '1', natural: '10.0.0.1/24' },
    ],
    serverErrors: [{ at: 1500, status: 503, what: 'POST /v1/machines/greeting/instances' }],
    downWindows: [[1000, 2000]],
    crashes: [],
  };
}

/** One anomaly of each kind, planted into a clean observation: the figure it must raise, and how. */
export const PLANTS: { figure: keyof Figures; what: string; plant: (o: Observation) => void }[] = [
  {
    figure: 'acknowledgedStartsLost',
    what: 'an acknowledged start missing from the database',
    plant: (o) => o.starts.push({ machine: 'greeting', key: 'start-9', instanceId: 'gone' }),
  },
  {
    figure: 'acknowledgedEventsLost',
    what: 'an acknowledged event missing from the history',
    plant: (o) => o.events.push({ instanceId: 'i2', key: 'confirm-9', type: 'greeting.confirm' }),
  },
  {
    figure: 'acknowledgedEventsAppliedTwice',
    what: 'an acknowledged event twice in the history',
    plant: (o) => (o.instances[1]!.eventKeys['confirm-1'] = 2),
  },
  {
    figure: 'duplicateInstances',
    what: 'a second instance for one start key',
    plant: (o) => o.instances.push({ ...o.instances[0]!, id: 'i1-bis', seqs: [1], refs: [] }),
  },
  {
    figure: 'stuckInstances',
    what: 'an instance still running after the drain',
    plant: (o) => Object.assign(o.instances[1]!, { status: 'active', workflowStatus: 'running' }),
  },
  { figure: 'historyGaps', what: 'a history with a missing sequence number', plant: (o) => (o.instances[0]!.seqs = [1, 3]) },
  {
    figure: 'labOrphans',
    what: 'a live lab record no kept instance points at',
    plant: (o) => o.lab.push({ system: 'onu', kind: 'onu', id: 'onu_000009' }),
  },
  {
    figure: 'labDuplicates',
    what: 'two live lab records with one natural key',
    plant: (o) => {
      o.lab.push({ system: 'customers', kind: 'customer', id: 'cust_000002', natural: 'ada@example.net' });
      o.instances[0]!.refs.push('cust_000002');
    },
  },
  {
    figure: 'serverErrorsWhileUp',
    what: 'a 5xx while the server was up',
    plant: (o) => o.serverErrors.push({ at: 60_000, status: 500, what: 'GET /v1/instances/i1' }),
  },
  { figure: 'serverCrashes', what: 'a server exit the run did not cause', plant: (o) => o.crashes.push('exit code 1 at 12:00:00') },
];

/** Each plant's result: whether the checker saw exactly that anomaly (its figure 1, every other 0). */
export function selfCheck(): { clean: boolean; plants: { figure: keyof Figures; what: string; figures: Figures; seen: boolean }[] } {
  const base = check(cleanObservation()).figures;
  const plants = PLANTS.map(({ figure, what, plant }) => {
    const o = cleanObservation();
    plant(o);
    const { figures } = check(o);
    const seen = Object.entries(figures).every(([k, n]) => n === (k === figure ? 1 : 0));
    return { figure, what, figures, seen };
  });
  return { clean: clean(base), plants };
}
