/**
 * Reads the end state of a chaos run: instances and history from the runtime's database, workflow
 * status from the API, the lab's live records.
 */
import pg from 'pg';
import { createHttpLabControl } from '../../lab/http/http-lab-control.ts';
import type { LabRecords } from '../../lab/records.ts';
import type { ApiClient } from './api-client.ts';
import type { InstanceView, Observation } from './observation.ts';

/** Every instance of the run, with its history and what it points at. */
export async function observeInstances(databaseUrl: string, api: ApiClient): Promise<InstanceView[]> {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const instances = await db.query(`SELECT id, machine_id, parent_id, idempotency_key, status, snapshot -> 'context' AS context, output
      FROM sk_instance ORDER BY created_at`);
    const events = await db.query<{ instance_id: string; seq: number; idempotency_key: string | null }>(
      'SELECT instance_id, seq, idempotency_key FROM sk_event ORDER BY instance_id, seq',
    );
    // What steps were given and answered counts too: a step that failed after applying is found by its key (recovery) and
    // its result lives in the effect rows, not in the context.
    const effects = await db.query<{ instance_id: string; input: unknown; result: unknown }>(
      "SELECT instance_id, input, result FROM sk_effect WHERE kind = 'step'",
    );
    const effectValues = new Map<string, unknown[]>();
    for (const e of effects.rows) effectValues.set(e.instance_id, [...(effectValues.get(e.instance_id) ?? []), e.input, e.result]);
    const history = new Map<string, { seqs: number[]; keys: Record<string, number> }>();
    for (const e of events.rows) {
      let h = history.get(e.instance_id);
      if (!h) history.set(e.instance_id, (h = { seqs: [], keys: {} }));
      h.seqs.push(e.seq);
      if (e.idempotency_key) h.keys[e.idempotency_key] = (h.keys[e.idempotency_key] ?? 0) + 1;
    }
    const views: InstanceView[] = [];
    for (const r of instances.rows) {
      const answer = await api.request('GET', `/v1/instances/${r.id}`, { deadline: Date.now() + 60_000 });
      views.push({
        id: r.id,
        machine: r.machine_id,
        parentId: r.parent_id,
        idempotencyKey: r.idempotency_key,
        status: r.status,
        workflowStatus: answer?.status === 200 ? answer.body.workflow.status : `unreadable (${answer?.status ?? 'no answer'})`,
        seqs: history.get(r.id)?.seqs ?? [],
        eventKeys: history.get(r.id)?.keys ?? {},
        refs: leaves([r.context, r.output, ...(effectValues.get(r.id) ?? [])]),
      });
    }
    return views;
  } finally {
    await db.end();
  }
}

/** Statuses of the instances still active, by workflow status (for the drain). */
export async function movingCount(databaseUrl: string, api: ApiClient): Promise<number> {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const { rows } = await db.query<{ id: string }>("SELECT id FROM sk_instance WHERE status = 'active'");
    let moving = 0;
    for (const { id } of rows) {
      const answer = await api.request('GET', `/v1/instances/${id}`, { deadline: Date.now() + 30_000 });
      if (!answer || ['pending', 'running', 'rolling_back'].includes(answer.body?.workflow?.status)) moving++;
    }
    return moving;
  } finally {
    await db.end();
  }
}

/** The lab's live records, each with the natural key two copies of one record would share. */
export async function observeLab(labUrl: string): Promise<Observation['lab']> {
  const { records, live } = await createHttpLabControl(labUrl).records();
  const natural = naturalKeys(records);
  return live.map((r) => ({
    ...r,
    ...(natural.has(`${r.system}.${r.kind}:${r.id}`) && { natural: natural.get(`${r.system}.${r.kind}:${r.id}`) }),
  }));
}

function naturalKeys(r: LabRecords): Map<string, string> {
  const keys = new Map<string, string>();
  const put = (at: string, id: string | number, natural: string) => keys.set(`${at}:${id}`, natural);
  for (const c of r.customers.customers) put('customers.customer', c.id, c.email);
  for (const s of r.customers.subscribers) put('customers.subscriber', s.id, s.username);
  for (const ip of r.ipam.ipAddresses) put('ipam.ip-address', ip.id, ip.address);
  for (const o of r.onu.activations) put('onu.onu', o.onuId, o.serialNumber);
  for (const a of r.billing.accounts) put('billing.account', a.accountId, a.customerId);
  for (const s of r.billing.services) put('billing.service', s.serviceId, s.subscriberId);
  for (const i of r.billing.invoices) put('billing.invoice', i.invoiceId, `${i.accountId} ${i.period}`);
  for (const c of r.payments.customers) put('payments.customer', c.paymentCustomerId, c.email);
  for (const u of r.tenants.users) put('tenants.user', u.userId, `${u.tenantId} ${u.email}`);
  for (const i of r.tenants.ingresses) put('tenants.ingress', i.ingressId, i.hostname);
  return keys;
}

/** Every string and number in the values, as text: the ids an instance points at. */
function leaves(values: unknown[]): string[] {
  const out = new Set<string>();
  const walk = (v: unknown) => {
    if (typeof v === 'string' || typeof v === 'number') out.add(String(v));
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  values.forEach(walk);
  return [...out];
}
