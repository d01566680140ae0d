import type { InstanceChange, RemoteChange } from './types.ts';

/** Options of {@link ChangeFeed.waitUntil}. */
export interface WaitOptions {
  /** Wall time to wait at most. */
  readonly timeoutMs: number;
  /** Changes that may make the check succeed (others do not wake it). */
  readonly wake: (change: Pick<InstanceChange, 'instanceId' | 'tenant'>) => boolean;
  /**
   * Check again at least this often (default: only on changes). Changes
   * committed by another process arrive as {@link RemoteChange}s when the
   * store announces them (LISTEN/NOTIFY); the poll catches a lost announcement.
   */
  readonly pollMs?: number;
}

/**
 * Committed changes of this process's instances, in commit order per
 * instance, the announcements of other processes' commits, and the one wait
 * loop built on them.
 */
export class ChangeFeed {
  private readonly listeners = new Set<(change: InstanceChange) => void>();
  private readonly remoteListeners = new Set<(change: RemoteChange) => void>();

  /** @param onError receives a subscriber's error (the commit has happened regardless). */
  constructor(private readonly onError: (e: unknown) => void) {}

  /** Tells every subscriber about a commit (a throwing listener does not stop the others). */
  emit(change: InstanceChange): void {
    for (const l of [...this.listeners]) {
      try {
        l(change);
      } catch (e) {
        this.onError(e);
      }
    }
  }

  /** Tells every remote subscriber about another process's commit. */
  emitRemote(change: RemoteChange): void {
    for (const l of [...this.remoteListeners]) {
      try {
        l(change);
      } catch (e) {
        this.onError(e);
      }
    }
  }

  /** Subscribes to other processes' commits (identity, version and status only); returns the unsubscribe function. */
  subscribeRemote(listener: (change: RemoteChange) => void): () => void {
    this.remoteListeners.add(listener);
    return () => this.remoteListeners.delete(listener);
  }

  /** Subscribes to committed changes (all instances); returns the unsubscribe function. */
  subscribe(listener: (change: InstanceChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Runs `check` now, after each waking change and on each poll, until it
   * returns a value; `undefined` when `timeoutMs` passed first.
   *
   * @remarks A change during a check marks the round dirty, so it is checked
   * again at once: no change can fall between a check and the wait.
   */
  async waitUntil<T>(check: () => Promise<T | undefined>, o: WaitOptions): Promise<T | undefined> {
    const deadline = Date.now() + o.timeoutMs;
    let dirty = false;
    let wake: (() => void) | undefined;
    const onChange = (change: InstanceChange | RemoteChange) => {
      if (!o.wake(change)) return;
      dirty = true;
      wake?.();
    };
    const unsubscribeLocal = this.subscribe(onChange);
    const unsubscribeRemote = this.subscribeRemote(onChange);
    const unsubscribe = () => (unsubscribeLocal(), unsubscribeRemote());
    try {
      for (;;) {
        dirty = false;
        const found = await check();
        if (found !== undefined) return found;
        const left = deadline - Date.now();
        if (left <= 0) return undefined;
        if (dirty) continue;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(left, o.pollMs ?? left));
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
      }
    } finally {
      unsubscribe();
    }
  }

  /** Subscribers right now (for tests and metrics). */
  get size(): number {
    return this.listeners.size;
  }

  /** Drops every subscriber (the runtime is closed). */
  close(): void {
    this.listeners.clear();
    this.remoteListeners.clear();
  }
}
