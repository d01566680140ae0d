import type { CallOptions, TenantInfraClient } from '../actors/clients/index.ts';
import type { CallGate } from './call-gate.ts';
import { LabError } from './errors.ts';
import type { IdSequence } from './ids.ts';
import { LabState, type Table, type Tables } from './lab-state.ts';
import type { LiveRecord } from './live-record.ts';

/** Status of a tenant. */
export type TenantStatus = 'active' | 'provisioning' | 'suspended';
/** A tenant of the platform. */
export interface TenantRecord {
  tenantId: string;
  name: string;
  plan: string;
  status: TenantStatus;
}
/** A tenant's database schema. */
export interface TenantSchema {
  schema: string;
  tenantId: string;
}
/** A user of a tenant. */
export interface TenantUser {
  userId: string;
  tenantId: string;
  email: string;
  role: 'admin';
}
/** An ingress route with its DNS name. */
export interface TenantIngress {
  ingressId: string;
  tenantId: string;
  hostname: string;
}
/** A service plan installed for a tenant. */
export interface TenantPlan {
  planId: string;
  tenantId: string;
  name: string;
}
/** A notification channel of a tenant. */
export interface NotificationChannel {
  channelId: string;
  tenantId: string;
}

/** Tenant infrastructure records the lab holds. */
export interface TenantInfraRecords {
  tenants: TenantRecord[];
  schemas: TenantSchema[];
  users: TenantUser[];
  ingresses: TenantIngress[];
  plans: TenantPlan[];
  channels: NotificationChannel[];
}

/** Plans `installDefaultPlans` creates. */
export const DEFAULT_TENANT_PLANS = ['basic', 'standard', 'premium'] as const;

const TENANT_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

/**
 * Platform infrastructure for tenants: tenant records, database schemas,
 * admin users, ingress/DNS, default plans and notification channels.
 *
 * @remarks Creating what exists already for the same tenant returns it (a
 * schema, an admin with that email, the tenant's ingress for that hostname,
 * its default plans, its channel). Nothing cascades: deleting a tenant leaves
 * its schema, users and ingresses, so a rollback that forgets one shows an orphan.
 */
export class TenantInfraSystem {
  private readonly state: { [K in keyof TenantInfraRecords]: Table<TenantInfraRecords[K][number]> };

  constructor(
    private readonly ids: IdSequence,
    tables: Tables = new LabState(),
  ) {
    this.state = {
      tenants: tables.table('tenants.tenant'),
      schemas: tables.table('tenants.schema'),
      users: tables.table('tenants.user'),
      ingresses: tables.table('tenants.ingress'),
      plans: tables.table('tenants.plan'),
      channels: tables.table('tenants.channel'),
    };
  }

  /** Registers a tenant in status `provisioning`. */
  createTenant(req: { tenantId: string; name: string; plan: string }): { tenantId: string } {
    if (!TENANT_ID.test(req.tenantId ?? '')) {
      throw LabError.invalid('tenants', 'createTenant', `tenant id "${req.tenantId}" must be lower case letters, digits and dashes`);
    }
    const existing = this.state.tenants.get(req.tenantId);
    if (existing && (existing.name !== req.name || existing.plan !== req.plan)) {
      throw LabError.conflict('tenants', 'createTenant', `tenant ${req.tenantId} exists with another name or plan`);
    }
    if (!existing) this.state.tenants.set(req.tenantId, { tenantId: req.tenantId, name: req.name, plan: req.plan, status: 'provisioning' });
    return { tenantId: req.tenantId };
  }

  /** Creates the tenant's schema `tenant_<id>`. */
  createSchema(tenantId: string): { schema: string } {
    this.tenant(tenantId, 'createSchema');
    const schema = `tenant_${tenantId.replaceAll('-', '_')}`;
    this.state.schemas.set(schema, { schema, tenantId });
    return { schema };
  }

  /** Creates the tenant's first admin user. */
  createAdminUser(req: { tenantId: string; email: string }): { userId: string } {
    this.tenant(req.tenantId, 'createAdminUser');
    if (!req.email?.includes('@')) throw LabError.invalid('tenants', 'createAdminUser', `"${req.email}" is not an email address`);
    const existing = [...this.state.users.values()].find((u) => u.tenantId === req.tenantId && u.email === req.email);
    if (existing) return { userId: existing.userId };
    const user: TenantUser = { userId: this.ids.next('usr'), tenantId: req.tenantId, email: req.email, role: 'admin' };
    this.state.users.set(user.userId, user);
    return { userId: user.userId };
  }

  /** Creates an ingress route and its DNS name; a hostname belongs to one tenant. */
  createIngress(req: { tenantId: string; hostname: string }): { ingressId: string; hostname: string } {
    this.tenant(req.tenantId, 'createIngress');
    const hostname = req.hostname?.toLowerCase() ?? '';
    if (!HOSTNAME.test(hostname)) throw LabError.invalid('tenants', 'createIngress', `"${req.hostname}" is not a DNS name`);
    const taken = [...this.state.ingresses.values()].find((i) => i.hostname === hostname);
    if (taken && taken.tenantId !== req.tenantId) {
      throw LabError.conflict('tenants', 'createIngress', `hostname ${hostname} is routed to tenant ${taken.tenantId}`);
    }
    const ingress = taken ?? { ingressId: this.ids.next('ing'), tenantId: req.tenantId, hostname };
    this.state.ingresses.set(ingress.ingressId, ingress);
    return { ingressId: ingress.ingressId, hostname };
  }

  /** Installs the default plans, once per tenant. */
  installDefaultPlans(tenantId: string): { planIds: string[] } {
    this.tenant(tenantId, 'installDefaultPlans');
    let plans = [...this.state.plans.values()].filter((p) => p.tenantId === tenantId);
    if (plans.length === 0) {
      plans = DEFAULT_TENANT_PLANS.map((name) => ({ planId: this.ids.next('plan'), tenantId, name }));
      for (const p of plans) this.state.plans.set(p.planId, p);
    }
    return { planIds: plans.map((p) => p.planId) };
  }

  /** Enables the tenant's notification channel, once per tenant. */
  enableNotifications(tenantId: string): { channelId: string } {
    this.tenant(tenantId, 'enableNotifications');
    const existing = [...this.state.channels.values()].find((c) => c.tenantId === tenantId);
    const channel = existing ?? { channelId: this.ids.next('chan'), tenantId };
    this.state.channels.set(channel.channelId, channel);
    return { channelId: channel.channelId };
  }

  /** Sets a tenant's status. */
  setTenantStatus(tenantId: string, status: TenantStatus): void {
    if (!['active', 'provisioning', 'suspended'].includes(status)) {
      throw LabError.invalid('tenants', 'setTenantStatus', `unknown status "${status}"`);
    }
    this.tenant(tenantId, 'setTenantStatus').status = status;
  }

  /** Deletes one record of a kind; one already gone is fine. */
  remove(kind: keyof TenantInfraRecords, id: string): void {
    this.state[kind].delete(id);
  }

  /** Every record, by kind. */
  records(): TenantInfraRecords {
    const all = <K extends keyof TenantInfraRecords>(kind: K) =>
      [...this.state[kind].values()].map((r) => ({ ...r })) as TenantInfraRecords[K];
    return {
      tenants: all('tenants'),
      schemas: all('schemas'),
      users: all('users'),
      ingresses: all('ingresses'),
      plans: all('plans'),
      channels: all('channels'),
    };
  }

  /** Every record as a live record (kinds: tenant, schema, user, ingress, plan, channel). */
  liveRecords(): LiveRecord[] {
    const r = this.records();
    const live = (kind: string, ids: string[]) => ids.map((id) => ({ system: 'tenants' as const, kind, id }));
    return [
      ...live(
        'tenant',
        r.tenants.map((t) => t.tenantId),
      ),
      ...live(
        'schema',
        r.schemas.map((s) => s.schema),
      ),
      ...live(
        'user',
        r.users.map((u) => u.userId),
      ),
      ...live(
        'ingress',
        r.ingresses.map((i) => i.ingressId),
      ),
      ...live(
        'plan',
        r.plans.map((p) => p.planId),
      ),
      ...live(
        'channel',
        r.channels.map((c) => c.channelId),
      ),
    ];
  }

  /** Forgets every record. */
  reset(): void {
    for (const map of Object.values(this.state)) map.clear();
  }

  private tenant(tenantId: string, operation: string): TenantRecord {
    const tenant = this.state.tenants.get(tenantId);
    if (!tenant) throw LabError.notFound('tenants', operation, 'tenant', tenantId);
    return tenant;
  }
}

/** The {@link TenantInfraClient} of a {@link TenantInfraSystem}, through the lab's call gate. */
export function createTenantInfraClient(system: TenantInfraSystem, gate: CallGate): TenantInfraClient {
  const run = <T>(operation: keyof TenantInfraClient, o: CallOptions, apply: () => T) => gate.mutate('tenants', operation, o, apply);
  return {
    createTenant: (req, o) => run('createTenant', o, () => system.createTenant(req)),
    deleteTenant: (id, o) => run('deleteTenant', o, () => system.remove('tenants', id)),
    createSchema: (id, o) => run('createSchema', o, () => system.createSchema(id)),
    dropSchema: (schema, o) => run('dropSchema', o, () => system.remove('schemas', schema)),
    createAdminUser: (req, o) => run('createAdminUser', o, () => system.createAdminUser(req)),
    deleteUser: (id, o) => run('deleteUser', o, () => system.remove('users', id)),
    createIngress: (req, o) => run('createIngress', o, () => system.createIngress(req)),
    deleteIngress: (id, o) => run('deleteIngress', o, () => system.remove('ingresses', id)),
    installDefaultPlans: (id, o) => run('installDefaultPlans', o, () => system.installDefaultPlans(id)),
    removePlans: (ids, o) => run('removePlans', o, () => ids.forEach((id) => system.remove('plans', id))),
    enableNotifications: (id, o) => run('enableNotifications', o, () => system.enableNotifications(id)),
    disableNotifications: (id, o) => run('disableNotifications', o, () => system.remove('channels', id)),
    setTenantStatus: (id, status, o) => run('setTenantStatus', o, () => system.setTenantStatus(id, status)),
  };
}
