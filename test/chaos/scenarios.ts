/**
 * What one chaos client does, one scenario after another: every bundled
 * saga, a cancel during a step, deprovisioning (its pivot), suspension and
 * activation, sign-up with its verification event, the billing run.
 */
import type { ApiClient, Answer } from './api-client.ts';
import type { AckedEvent, AckedStart } from './observation.ts';

/** Workflow statuses at which a client stops waiting. */
const AT_REST = new Set(['completed', 'rolled_back', 'cancelled', 'failed', 'compensation_failed']);
const WAIT_MS = 180_000;

/** What the clients share: the API, the ledger of acknowledged requests, unique names. */
export interface Workbench {
  api: ApiClient;
  run: string;
  starts: AckedStart[];
  events: AckedEvent[];
  next(): number;
  /** Billing accounts open in the lab now. */
  openAccounts(): Promise<string[]>;
}

type Instance = {
  id: string;
  status: string;
  state: unknown;
  context: any;
  workflow: { status: string };
  acceptedEvents: { type: string }[];
};

async function start(w: Workbench, machine: string, input: unknown): Promise<string | undefined> {
  const key = `${w.run}-${machine}-${w.next()}`;
  const answer = await w.api.request('POST', `/v1/machines/${machine}/instances`, { body: { input }, key, deadline: Date.now() + WAIT_MS });
  if (!answer || answer.status >= 300) return report(`start ${machine}`, answer);
  w.starts.push({ machine, key, instanceId: answer.body.id });
  return answer.body.id;
}

async function send(w: Workbench, id: string, event: { type: string } & Record<string, unknown>): Promise<void> {
  const key = `${w.run}-event-${w.next()}`;
  const answer = await w.api.request('POST', `/v1/instances/${id}/events`, { body: event, key, deadline: Date.now() + WAIT_MS });
  if (answer && answer.status < 300) w.events.push({ instanceId: id, key, type: event.type });
  else report(`send ${event.type}`, answer);
}

async function cancel(w: Workbench, id: string): Promise<void> {
  const key = `${w.run}-cancel-${w.next()}`;
  const answer = await w.api.request('POST', `/v1/instances/${id}/cancel`, {
    body: { reason: 'chaos' },
    key,
    deadline: Date.now() + WAIT_MS,
  });
  if (answer && answer.status < 300) w.events.push({ instanceId: id, key, type: 'workflow.cancel', mayBeNoop: true });
  else report('cancel', answer);
}

/** Polls the instance until `until` holds (default: at rest); the last view, or undefined when it never held. */
async function waitFor(w: Workbench, id: string, until: (i: Instance) => boolean = atRest): Promise<Instance | undefined> {
  const deadline = Date.now() + WAIT_MS;
  while (Date.now() < deadline) {
    const answer = await w.api.request('GET', `/v1/instances/${id}`, { deadline });
    if (answer?.status === 200 && (until(answer.body) || atRest(answer.body))) return answer.body;
    await new Promise((r) => setTimeout(r, 300));
  }
  return undefined;
}

const atRest = (i: Instance) => i.status !== 'active' || AT_REST.has(i.workflow.status);
const accepts = (type: string) => (i: Instance) => i.acceptedEvents.some((e) => e.type === type);

function report(what: string, answer: Answer | undefined): undefined {
  if (answer) console.warn(`chaos: ${what} answered ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`);
  return undefined;
}

function provisioningInput(w: Workbench) {
  const n = w.next();
  return {
    customer: { name: `Chaos ${n}`, email: `c${n}-${w.run}@chaos.test` },
    subscriber: { username: `c${n}-${w.run}`, plan: ['basic', 'standard', 'premium'][n % 3]! },
    radius: { password: 'chaos-password', rateLimit: '10M/10M' },
    ipPrefixId: 1 + (n % 2),
    onu: { serialNumber: `CHAO${n.toString(16).padStart(8, '0')}`, oltPort: `olt-1/1/${n % 16}` },
    ...(n % 2 === 0 && { cpe: { deviceId: `cpe-${n}-${w.run}` } }),
  };
}

/** Provisioning; then, for some, deprovisioning (the pivot) or suspension and activation. */
export async function provisioning(w: Workbench, rnd: number): Promise<void> {
  const input = provisioningInput(w);
  const id = await start(w, 'subscriber-provisioning', input);
  const done = id && (await waitFor(w, id));
  if (!done || done.workflow.status !== 'completed') return;
  const r = done.context.results;
  const ids = { subscriberId: r.subscriber.subscriberId, username: r.subscriber.username, serviceId: r.billingService.serviceId };
  if (rnd < 0.35) {
    const de = await start(w, 'subscriber-deprovisioning', {
      ...ids,
      ...(r.ipAllocation && { addressId: r.ipAllocation.addressId }),
      onu: { onuId: r.onuActivation.onuId, ...input.onu },
      ...(input.cpe && { cpeDeviceId: input.cpe.deviceId }),
    });
    if (de) await waitFor(w, de);
  } else if (rnd < 0.65) {
    const suspended = await start(w, 'service-suspension', { ...ids, notifyEmail: input.customer.email });
    if (suspended) await waitFor(w, suspended);
    const activated = await start(w, 'service-activation', ids);
    if (activated) await waitFor(w, activated);
  }
}

/** Provisioning cancelled while a step runs. */
export async function cancelledProvisioning(w: Workbench, rnd: number): Promise<void> {
  const id = await start(w, 'subscriber-provisioning', provisioningInput(w));
  if (!id) return;
  await new Promise((r) => setTimeout(r, rnd * 1500));
  await cancel(w, id);
  await waitFor(w, id);
}

export async function tenantProvisioning(w: Workbench): Promise<void> {
  const n = w.next();
  const tenantId = `t${n}-${w.run}`;
  const id = await start(w, 'tenant-provisioning', {
    tenantId,
    name: `Tenant ${n}`,
    plan: 'basic',
    adminEmail: `admin@${tenantId}.chaos.test`,
    hostname: `${tenantId}.chaos.test`,
  });
  if (id) await waitFor(w, id);
}

/** Sign-up: verified by the user's event, or cancelled while it waits. */
export async function signUp(w: Workbench, rnd: number): Promise<void> {
  const n = w.next();
  const email = `s${n}-${w.run}@chaos.test`;
  const id = await start(w, 'sign-up', { email, name: `Signer ${n}`, phone: '+4915112345678', verificationTimeoutMs: 3_600_000 });
  const waiting = id && (await waitFor(w, id, accepts('email.verified')));
  if (!waiting || atRest(waiting)) return;
  if (rnd < 0.8) await send(w, id, { type: 'email.verified', email });
  else await cancel(w, id);
  await waitFor(w, id);
}

export async function greeting(w: Workbench): Promise<void> {
  const id = await start(w, 'greeting', { name: `Chaos ${w.next()}` });
  const waiting = id && (await waitFor(w, id, accepts('greeting.confirm')));
  if (!waiting || atRest(waiting)) return;
  await send(w, id, { type: 'greeting.confirm' });
  await waitFor(w, id);
}

/** A billing run over a few open accounts, for a period of its own. */
export async function billingRun(w: Workbench): Promise<void> {
  const accounts = (await w.openAccounts()).sort(() => Math.random() - 0.5).slice(0, 3);
  if (accounts.length === 0) return;
  const n = w.next();
  const period = `${2030 + Math.floor(n / 12)}-${String((n % 12) + 1).padStart(2, '0')}`;
  const id = await start(w, 'billing-run', { period, currency: 'EUR', accountIds: accounts });
  if (id) await waitFor(w, id);
}
