import type { AnyMachineSnapshot } from 'xstate';
import { RuntimeError } from './errors.ts';
import { restore } from './machine-snapshot.ts';
import type { InstanceRecord, InstanceStore } from './ports.ts';
import type { Registry, RegisteredMachine } from './registry.ts';

/** An instance held in memory between events: its row, its machine version and its live snapshot. */
export interface LoadedInstance {
  record: InstanceRecord;
  reg: RegisteredMachine;
  snapshot: AnyMachineSnapshot;
  lastUsed: number;
}

/** Options of {@link InstanceCache}. */
export interface InstanceCacheOptions {
  readonly store: InstanceStore;
  readonly registry: Registry;
  /** Idle instances are evicted beyond this many in memory. */
  readonly maxCached: number;
  /** True while an instance has an event queued or running (it is never evicted then). */
  readonly busy: (instanceId: string) => boolean;
}

/**
 * Instances in memory: loaded lazily from the store, restored against their
 * registered machine version, evicted when idle.
 *
 * @remarks The cache is only a shortcut: the stored row is the truth. A
 * version conflict evicts the entry, so the next attempt reloads it.
 */
export class InstanceCache {
  private readonly entries = new Map<string, LoadedInstance>();

  constructor(private readonly o: InstanceCacheOptions) {}

  /** Loads (or returns the cached) instance, validating its snapshot against its machine version. */
  async load(id: string): Promise<LoadedInstance> {
    const cached = this.entries.get(id);
    if (cached) {
      cached.lastUsed = Date.now();
      return cached;
    }
    const record = await this.o.store.get(id);
    if (!record) throw RuntimeError.instanceNotFound(id);
    return this.remember(this.hydrate(record));
  }

  /** Restores a stored record (no caching). */
  hydrate(record: InstanceRecord): LoadedInstance {
    const reg = this.o.registry.find(record.machineId, record.machineVersion);
    if (!reg) {
      throw new RuntimeError(
        'machine_version_not_found',
        `Instance "${record.id}" runs ${record.machineId}@${record.machineVersion}, which is not registered in this runtime; ` +
          'register that version to resume it.',
        { instanceId: record.id, machine: record.machineId, version: record.machineVersion },
      );
    }
    let snapshot: AnyMachineSnapshot;
    try {
      snapshot = restore(reg.machine, record.snapshot, {
        instanceId: record.id,
        machineRef: reg.ref,
        withParent: record.parentId !== null,
      });
    } catch (e) {
      // An instance that no longer runs (a quarantined one: see quarantine.ts) is read by its row alone.
      if (record.status === 'active') throw e;
      snapshot = null as unknown as AnyMachineSnapshot;
    }
    return { record, reg, snapshot, lastUsed: Date.now() };
  }

  /** Keeps a loaded instance (evicting idle ones beyond the limit). */
  remember(loaded: LoadedInstance): LoadedInstance {
    this.entries.set(loaded.record.id, loaded);
    if (this.entries.size > this.o.maxCached) this.evictIdle();
    return loaded;
  }

  /** Forgets an instance; the next load reads it from the store. */
  evict(id: string): void {
    this.entries.delete(id);
  }

  /**
   * Another process committed `version` of an instance: a copy older than it
   * is forgotten now, so the next event reloads it instead of paying a version conflict.
   */
  evictOlderThanVersion(id: string, version: number): void {
    const cached = this.entries.get(id);
    if (cached && cached.record.version < version) this.entries.delete(id);
  }

  /** Evicts instances with no event for `idleMs` (called from the poll loop). */
  evictOlderThan(idleMs: number): void {
    const cutoff = Date.now() - idleMs;
    for (const [id, l] of this.entries) if (l.lastUsed < cutoff && !this.o.busy(id)) this.entries.delete(id);
  }

  /** Instances held in memory. */
  get size(): number {
    return this.entries.size;
  }

  /** Drops the least recently used instances that have no event in flight. */
  private evictIdle(): void {
    const idle = [...this.entries.values()].filter((l) => !this.o.busy(l.record.id)).sort((a, b) => a.lastUsed - b.lastUsed);
    for (const l of idle.slice(0, Math.max(0, this.entries.size - Math.floor(this.o.maxCached * 0.9)))) this.entries.delete(l.record.id);
  }
}
