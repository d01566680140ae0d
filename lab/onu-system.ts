import type { CallOptions, OnuClient } from '../actors/clients/index.ts';
import type { CallGate } from './call-gate.ts';
import { LabError } from './errors.ts';
import type { IdSequence } from './ids.ts';
import { LabState, type Table, type Tables } from './lab-state.ts';
import type { LiveRecord } from './live-record.ts';

/** An activated ONU on an OLT port. */
export interface OnuActivation {
  onuId: string;
  serialNumber: string;
  oltPort: string;
  subscriberId: string;
  operStatus: 'ACTIVE';
}

// Vendor id (4 letters) + 8 hex digits, e.g. ALCLf0e1d2c3.
const SERIAL = /^[A-Za-z]{4}[0-9A-Fa-f]{8}$/;

/**
 * Optical network: ONUs activated on OLT ports (VOLTHA-like).
 *
 * @remarks A serial number is active at most once. Activating it again for
 * the same subscriber and port returns the existing ONU; for another
 * subscriber it is a conflict. Deactivation removes the activation; an ONU
 * already inactive is fine. Re-activating a serial on the port it had keeps
 * its ONU id, so undoing a deactivation restores the id the systems know.
 */
export class OnuSystem {
  private readonly onus: Table<OnuActivation>;
  // An OLT keeps an ONU's index on its port: re-activating the same serial there gets the same id back.
  private readonly knownIds: Table<string>;

  constructor(
    private readonly ids: IdSequence,
    tables: Tables = new LabState(),
  ) {
    this.onus = tables.table('onu.onu');
    this.knownIds = tables.table('onu.known-id');
  }

  /** Activates the ONU with this serial number for a subscriber. */
  activate(req: { serialNumber: string; oltPort: string; subscriberId: string }): { onuId: string } {
    if (!SERIAL.test(req.serialNumber ?? '')) {
      throw LabError.invalid('onu', 'activate', `serial number "${req.serialNumber}" is not vendor id + 8 hex digits (e.g. ALCLf0e1d2c3)`);
    }
    if (!req.oltPort?.trim()) throw LabError.invalid('onu', 'activate', 'oltPort must not be empty');
    const active = [...this.onus.values()].find((o) => o.serialNumber === req.serialNumber);
    if (active) {
      if (active.subscriberId === req.subscriberId && active.oltPort === req.oltPort) return { onuId: active.onuId };
      throw LabError.conflict(
        'onu',
        'activate',
        `ONU ${req.serialNumber} is active as ${active.onuId} for subscriber ${active.subscriberId} on ${active.oltPort}; ` +
          'deactivate it first',
      );
    }
    // A serial has no `@` (vendor id + hex digits): the key is unambiguous, and Postgres text takes no NUL.
    const slot = `${req.serialNumber}@${req.oltPort}`;
    const onu: OnuActivation = { onuId: this.knownIds.get(slot) ?? this.ids.next('onu'), ...pick(req), operStatus: 'ACTIVE' };
    this.knownIds.set(slot, onu.onuId);
    this.onus.set(onu.onuId, onu);
    return { onuId: onu.onuId };
  }

  /** Deactivates an ONU; one already inactive is fine. */
  deactivate(onuId: string): void {
    this.onus.delete(onuId);
  }

  /** Active ONUs. */
  records(): OnuActivation[] {
    return [...this.onus.values()].map((o) => ({ ...o }));
  }

  /** One live record per active ONU. */
  liveRecords(): LiveRecord[] {
    return this.records().map((o) => ({ system: 'onu', kind: 'onu', id: o.onuId }));
  }

  /** Deactivates everything. */
  reset(): void {
    this.onus.clear();
    this.knownIds.clear();
  }
}

/** The {@link OnuClient} of an {@link OnuSystem}, through the lab's call gate. */
export function createOnuClient(system: OnuSystem, gate: CallGate): OnuClient {
  const run = <T>(operation: keyof OnuClient, o: CallOptions, apply: () => T) => gate.mutate('onu', operation, o, apply);
  return {
    activate: (req, o) => run('activate', o, () => system.activate(req)),
    deactivate: (onuId, o) => run('deactivate', o, () => system.deactivate(onuId)),
  };
}

function pick(req: { serialNumber: string; oltPort: string; subscriberId: string }) {
  return { serialNumber: req.serialNumber, oltPort: req.oltPort, subscriberId: req.subscriberId };
}
