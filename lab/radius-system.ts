import type { CallOptions, RadiusClient } from '../actors/clients/index.ts';
import type { CallGate } from './call-gate.ts';
import { LabError } from './errors.ts';
import type { LiveRecord } from './live-record.ts';
import type { RadiusRowInput, RadiusStore, RadiusTables } from './radius-store.ts';

/** Reply attribute carrying the rate limit (MikroTik's, common on FreeRADIUS NAS setups). */
export const RATE_LIMIT_ATTRIBUTE = 'Mikrotik-Rate-Limit';

/** The rows a RADIUS account request becomes. */
export function accountRows(req: { password: string; framedIp?: string; rateLimit?: string }): RadiusTables<RadiusRowInput> {
  const radreply: RadiusRowInput[] = [];
  // NetBox hands out "10.0.0.5/24"; Framed-IP-Address holds the bare address.
  if (req.framedIp) radreply.push({ attribute: 'Framed-IP-Address', op: '=', value: req.framedIp.split('/')[0]! });
  if (req.rateLimit) radreply.push({ attribute: RATE_LIMIT_ATTRIBUTE, op: '=', value: req.rateLimit });
  return { radcheck: [{ attribute: 'Cleartext-Password', op: ':=', value: req.password }], radreply };
}

/**
 * RADIUS accounts as FreeRADIUS SQL rows: `Cleartext-Password :=` in
 * radcheck, `Framed-IP-Address =` and the rate limit in radreply, and
 * `Auth-Type := Reject` in radcheck while suspended.
 *
 * @remarks Creating an account that exists with the same attributes returns
 * it (the check-then-create of a careful provisioning handler); with other
 * attributes it is a conflict.
 */
export class RadiusSystem {
  constructor(readonly store: RadiusStore) {}

  /** Creates the account's rows. */
  async createAccount(req: { username: string; password: string; framedIp?: string; rateLimit?: string }): Promise<{ username: string }> {
    if (!req.username?.trim()) throw LabError.invalid('radius', 'createAccount', 'username must not be empty');
    if (!req.password) throw LabError.invalid('radius', 'createAccount', 'password must not be empty');
    if (req.framedIp !== undefined && !/^\d{1,3}(\.\d{1,3}){3}(\/\d{1,2})?$/.test(req.framedIp)) {
      throw LabError.invalid('radius', 'createAccount', `framedIp "${req.framedIp}" is not an IPv4 address`);
    }
    const outcome = await upstream('createAccount', () => this.store.createAccount(req.username, accountRows(req)));
    if (outcome === 'conflict') {
      throw LabError.conflict(
        'radius',
        'createAccount',
        `username ${req.username} already has other radcheck/radreply rows; delete the account first`,
      );
    }
    return { username: req.username };
  }

  /** Deletes the account's rows; an account already gone is fine. */
  async deleteAccount(username: string): Promise<void> {
    await upstream('deleteAccount', () => this.store.deleteAccount(username));
  }

  /** Adds or removes `Auth-Type := Reject`. */
  async setSuspended(username: string, suspended: boolean): Promise<void> {
    if (!(await upstream('setSuspended', () => this.store.setSuspended(username, suspended)))) {
      throw LabError.notFound('radius', 'setSuspended', 'RADIUS account', username);
    }
  }

  /** Every radcheck and radreply row. */
  records(): Promise<RadiusTables> {
    return this.store.rows();
  }

  /** One live record per username that has rows. */
  async liveRecords(): Promise<LiveRecord[]> {
    const { radcheck, radreply } = await this.store.rows();
    const usernames = new Set([...radcheck, ...radreply].map((r) => r.username));
    return [...usernames].sort().map((id) => ({ system: 'radius', kind: 'account', id }));
  }

  /** Deletes every row. */
  reset(): Promise<void> {
    return this.store.reset();
  }
}

// A failing database is the RADIUS backend being down: retryable, like a 503.
async function upstream<T>(operation: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof LabError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new LabError('upstream_error', 'radius', operation, `the RADIUS database failed: ${message}`, true, 503, { cause: error });
  }
}

/** The {@link RadiusClient} of a {@link RadiusSystem}, through the lab's call gate. */
export function createRadiusClient(system: RadiusSystem, gate: CallGate): RadiusClient {
  const run = <T>(operation: keyof RadiusClient, o: CallOptions, apply: () => Promise<T>) => gate.mutate('radius', operation, o, apply);
  return {
    createAccount: (req, o) => run('createAccount', o, () => system.createAccount(req)),
    deleteAccount: (username, o) => run('deleteAccount', o, () => system.deleteAccount(username)),
    setSuspended: (username, suspended, o) => run('setSuspended', o, () => system.setSuspended(username, suspended)),
  };
}
