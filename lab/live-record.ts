import type { SystemName } from './operations.ts';

/**
 * One record that stands for a live side effect in an external system: what
 * an undo step would have to remove.
 */
export interface LiveRecord {
  system: SystemName;
  /** What the record is, e.g. `subscriber`, `ip-address`, `charge`. */
  kind: string;
  id: string;
}

/** Identifies a {@link LiveRecord}; `kind` omitted matches any kind. */
export interface LiveRecordRef {
  system: SystemName;
  kind?: string;
  id: string;
}

/** Whether `record` is the one `ref` points at. */
export function matchesRef(record: LiveRecord, ref: LiveRecordRef): boolean {
  return record.system === ref.system && record.id === ref.id && (ref.kind === undefined || ref.kind === record.kind);
}
