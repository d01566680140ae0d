import type { BillingRecords } from './billing-system.ts';
import type { CpeConfig } from './cpe-system.ts';
import type { CustomerRecords } from './customer-system.ts';
import type { IpAddress } from './ipam-system.ts';
import { matchesRef, type LiveRecord, type LiveRecordRef } from './live-record.ts';
import type { OutboxMessage } from './messaging-system.ts';
import type { OnuActivation } from './onu-system.ts';
import type { PaymentRecords } from './payments-system.ts';
import type { RadiusTables } from './radius-store.ts';
import type { TenantInfraRecords } from './tenant-infra-system.ts';

/**
 * Everything the lab's systems hold that stands for a side effect, by system.
 *
 * @remarks Records that no longer stand for one are left out: deleted
 * subscribers, released addresses, deactivated ONUs, reset CPEs, closed
 * accounts, void invoices, declined or refunded charges. Messages are listed
 * but are not live records (a sent message cannot be undone).
 */
export interface LabRecords {
  customers: CustomerRecords;
  radius: RadiusTables;
  ipam: { ipAddresses: IpAddress[] };
  onu: { activations: OnuActivation[] };
  cpe: { configs: CpeConfig[] };
  billing: BillingRecords;
  payments: PaymentRecords;
  messaging: { messages: OutboxMessage[] };
  tenants: TenantInfraRecords;
}

/** Live records not named in `expected`: the side effects nothing accounts for. */
export function orphansAmong(live: LiveRecord[], expected: readonly LiveRecordRef[] = []): LiveRecord[] {
  return live.filter((record) => !expected.some((ref) => matchesRef(record, ref)));
}

/** Live records counted per system, e.g. `{ radius: 1, ipam: 2 }`; systems with none are left out. */
export function countBySystem(live: LiveRecord[]): Partial<Record<LiveRecord['system'], number>> {
  const counts: Partial<Record<LiveRecord['system'], number>> = {};
  for (const r of live) counts[r.system] = (counts[r.system] ?? 0) + 1;
  return counts;
}
