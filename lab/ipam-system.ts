import type { CallOptions, IpamClient } from '../actors/clients/index.ts';
import type { CallGate } from './call-gate.ts';
import { LabError } from './errors.ts';
import type { IdSequence } from './ids.ts';
import { LabState, type Table, type Tables } from './lab-state.ts';
import type { LiveRecord } from './live-record.ts';

/** A NetBox prefix (`/api/ipam/prefixes/{id}/`). */
export interface IpamPrefix {
  id: number;
  /** IPv4 CIDR, e.g. `10.0.0.0/24`. */
  prefix: string;
  description?: string;
}

/** A NetBox IP address object (`/api/ipam/ip-addresses/{id}/`). */
export interface IpAddress {
  id: number;
  /** Address with the prefix length, e.g. `10.0.0.5/24`. */
  address: string;
  status: 'active';
  description: string;
}

/** Prefixes a lab has unless told otherwise. */
export const DEFAULT_PREFIXES: readonly IpamPrefix[] = [
  { id: 1, prefix: '10.0.0.0/24', description: 'subscriber pool' },
  { id: 2, prefix: '10.0.1.0/24', description: 'subscriber pool 2' },
];

/**
 * IP address management in the NetBox shape.
 *
 * @remarks Allocation takes the lowest free address of the prefix, skipping
 * the network and broadcast addresses (NetBox does so for prefixes shorter
 * than /31). An allocated address is never handed out again until its
 * ip-address object is deleted; ids are never reused (they come from the lab's
 * id sequences). An exhausted prefix is
 * a non-retryable conflict (NetBox answers 409).
 */
export class IpamSystem {
  private prefixes = new Map<number, IpamPrefix>();
  private readonly addresses: Table<IpAddress & { prefixId: number }>;

  constructor(
    private readonly ids: IdSequence,
    private readonly initialPrefixes: readonly IpamPrefix[] = DEFAULT_PREFIXES,
    tables: Tables = new LabState(),
  ) {
    this.addresses = tables.table('ipam.ip-address');
    this.reset();
  }

  /** Adds (or replaces) a prefix. */
  addPrefix(prefix: IpamPrefix): void {
    parseCidr(prefix.prefix);
    this.prefixes.set(prefix.id, { ...prefix });
  }

  /** Allocates the next available address of a prefix. */
  allocateAddress(req: { prefixId: number; description: string }): IpAddress {
    const prefix = this.prefix(req.prefixId, 'allocateAddress');
    const free = this.available(prefix, 1)[0];
    if (free === undefined) throw LabError.prefixExhausted(prefix.id, prefix.prefix);
    const ip = {
      id: this.ids.nextNumber('ipam.ip-address'),
      address: free,
      status: 'active' as const,
      description: req.description ?? '',
      prefixId: prefix.id,
    };
    this.addresses.set(String(ip.id), ip);
    return toIpAddress(ip);
  }

  /** Deletes the ip-address object; one already gone is fine. */
  releaseAddress(addressId: number): void {
    this.addresses.delete(String(Number(addressId)));
  }

  /** Available addresses of a prefix, in order (NetBox's GET available-ips). */
  availableAddresses(prefixId: number, limit = 50): string[] {
    return this.available(this.prefix(prefixId, 'availableAddresses'), limit);
  }

  /** Allocated ip-address objects. */
  records(): IpAddress[] {
    return [...this.addresses.values()].map(toIpAddress);
  }

  /** One live record per allocated address. */
  liveRecords(): LiveRecord[] {
    return this.records().map((ip) => ({ system: 'ipam', kind: 'ip-address', id: String(ip.id) }));
  }

  /** Back to the initial prefixes, no addresses allocated. */
  reset(): void {
    this.prefixes = new Map();
    this.addresses.clear();
    for (const p of this.initialPrefixes) this.addPrefix(p);
  }

  private prefix(prefixId: number, operation: string): IpamPrefix {
    const prefix = this.prefixes.get(Number(prefixId));
    if (!prefix) throw LabError.notFound('ipam', operation, 'prefix', prefixId);
    return prefix;
  }

  private available(prefix: IpamPrefix, limit: number): string[] {
    const { base, length } = parseCidr(prefix.prefix);
    const size = 2 ** (32 - length);
    const [first, last] = length >= 31 ? [0, size - 1] : [1, size - 2];
    const used = new Set([...this.addresses.values()].filter((a) => a.prefixId === prefix.id).map((a) => a.address));
    const free: string[] = [];
    for (let offset = first; offset <= last && free.length < limit; offset++) {
      const address = `${formatIpv4(base + offset)}/${length}`;
      if (!used.has(address)) free.push(address);
    }
    return free;
  }
}

/** The {@link IpamClient} of an {@link IpamSystem}, through the lab's call gate. */
export function createIpamClient(system: IpamSystem, gate: CallGate): IpamClient {
  const run = <T>(operation: keyof IpamClient, o: CallOptions, apply: () => T) => gate.mutate('ipam', operation, o, apply);
  return {
    allocateAddress: (req, o) => run('allocateAddress', o, () => system.allocateAddress(req)),
    releaseAddress: (id, o) => run('releaseAddress', o, () => system.releaseAddress(id)),
  };
}

function toIpAddress({ id, address, status, description }: IpAddress): IpAddress {
  return { id, address, status, description };
}

function parseCidr(cidr: string): { base: number; length: number } {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  const octets = match?.slice(1, 5).map(Number);
  const length = Number(match?.[5]);
  if (!octets || octets.some((o) => o > 255) || length > 32) {
    throw LabError.invalid('ipam', 'addPrefix', `"${cidr}" is not an IPv4 prefix like 10.0.0.0/24`);
  }
  const address = octets.reduce((acc, o) => acc * 256 + o, 0);
  const size = 2 ** (32 - length);
  return { base: address - (address % size), length };
}

function formatIpv4(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}
