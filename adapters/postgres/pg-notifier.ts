import pg from 'pg';
import type { InstanceStatus, Wakeup, Wakeups } from '../../runtime/ports.ts';

/** The one channel every process listens on. */
export const WAKEUP_CHANNEL = 'sk_wakeup';

/**
 * Instance changes per NOTIFY sent by a commit statement. An entry is at most
 * ~300 bytes (ids and tenants are bounded), so a chunk stays well under
 * PostgreSQL's 8000-byte payload limit.
 */
export const CHANGES_PER_NOTIFY = 20;

/**
 * Payloads, kept short: `o` is the sending store's origin (a process ignores
 * its own), then one of `c` (instance changes: [id, tenant, version, status]),
 * `w` (work to claim), `k` (a revoked API key id), `d` (outbox deliveries to make).
 */
interface Payload {
  o: string;
  c?: [string, string, number, InstanceStatus][];
  w?: 1;
  k?: string;
  /** Outbox deliveries were written (by a commit statement). */
  d?: 1;
}

/** The payload announcing `wakeup` (instance changes are announced by the commit statement itself, see commit-sql.ts). */
export function encodeWakeup(origin: string, wakeup: Wakeup): string {
  const p: Payload = { o: origin };
  if (wakeup.kind === 'instance') p.c = [[wakeup.instanceId, wakeup.tenant, wakeup.version, wakeup.status]];
  else if (wakeup.kind === 'key_revoked') p.k = wakeup.keyId;
  else if (wakeup.kind === 'deliveries') p.d = 1;
  else p.w = 1;
  return JSON.stringify(p);
}

/** The wake-ups of a payload from another origin; none for our own or a malformed one. */
export function decodeWakeups(origin: string, text: string | undefined): Wakeup[] {
  let p: Payload;
  try {
    p = JSON.parse(text ?? '') as Payload;
  } catch {
    return [];
  }
  if (!p || typeof p !== 'object' || p.o === origin) return [];
  const out: Wakeup[] = [];
  for (const c of Array.isArray(p.c) ? p.c : []) {
    if (Array.isArray(c) && typeof c[0] === 'string' && typeof c[1] === 'string' && Number.isInteger(c[2])) {
      out.push({ kind: 'instance', instanceId: c[0], tenant: c[1], version: c[2], status: c[3] });
    }
  }
  if (p.w === 1) out.push({ kind: 'work' });
  if (p.d === 1) out.push({ kind: 'deliveries' });
  if (typeof p.k === 'string') out.push({ kind: 'key_revoked', keyId: p.k });
  return out;
}

/** Options of {@link PgNotifier}. */
export interface PgNotifierOptions {
  /** Connection string; the listener is a client of its own, outside the pool (a pooled connection cannot stay in LISTEN). */
  readonly url: string;
  /** This process's origin: the same as its store's (`PgInstanceStore.origin`), so its own announcements are skipped. */
  readonly origin: string;
  /** First delay before reconnecting (default 100 ms), doubled per failed attempt up to `maxBackoffMs` (default 5 s). */
  readonly backoffMs?: number;
  readonly maxBackoffMs?: number;
  readonly onError?: (e: unknown) => void;
}

/**
 * Wake-ups by LISTEN/NOTIFY: one dedicated connection per process listening
 * on {@link WAKEUP_CHANNEL}. When the connection drops it reconnects with
 * backoff and then reports `resync` (announcements sent meanwhile are lost;
 * polling covers them, and `resync` asks for a round at once).
 */
export class PgNotifier implements Wakeups {
  private readonly listeners = new Set<(w: Wakeup) => void>();
  private client?: pg.Client;
  private closed = false;
  private attempt = 0;
  private retry?: NodeJS.Timeout;
  /** Connections made after the first (for tests and logs). */
  reconnects = 0;

  constructor(private readonly o: PgNotifierOptions) {}

  /** Connects and listens; rejects when the first connection fails (later ones are retried). */
  async start(): Promise<void> {
    await this.connect();
  }

  /** True while the listening connection is up. */
  get connected(): boolean {
    return this.client !== undefined;
  }

  /** The listening connection's backend pid (tests end it with pg_terminate_backend). */
  get backendPid(): number | undefined {
    return (this.client as unknown as { processID?: number } | undefined)?.processID;
  }

  subscribe(fn: (wakeup: Wakeup) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    const c = this.client;
    this.client = undefined;
    this.listeners.clear();
    await c?.end().catch(() => {});
  }

  private async connect(): Promise<void> {
    const c = new pg.Client({ connectionString: this.o.url, application_name: 'statekeeper-listen' });
    // Until it listens, a failure rejects below; after, it is a lost connection to replace.
    let listening = false;
    let lost = false;
    const onLost = (e?: unknown) => {
      if (!listening || lost) return;
      lost = true;
      if (e) this.o.onError?.(e);
      if (this.client === c) this.client = undefined;
      c.end().catch(() => {});
      this.scheduleReconnect();
    };
    c.on('notification', (n) => this.deliver(n.payload));
    c.on('error', onLost);
    c.on('end', () => onLost());
    try {
      await c.connect();
      await c.query(`LISTEN ${WAKEUP_CHANNEL}`);
    } catch (e) {
      await c.end().catch(() => {});
      throw e;
    }
    if (this.closed) return void (await c.end().catch(() => {}));
    listening = true;
    this.client = c;
  }

  private scheduleReconnect(): void {
    if (this.closed) return;
    const delay = Math.min((this.o.backoffMs ?? 100) * 2 ** this.attempt, this.o.maxBackoffMs ?? 5_000);
    this.attempt++;
    this.retry = setTimeout(() => {
      this.connect().then(
        () => {
          if (this.closed) return;
          this.attempt = 0;
          this.reconnects++;
          // Announcements sent while we were away are lost: catch up as a poll would.
          this.emit({ kind: 'resync' });
        },
        (e: unknown) => {
          this.o.onError?.(e);
          this.scheduleReconnect();
        },
      );
    }, delay);
    this.retry.unref?.();
  }

  private deliver(payload: string | undefined): void {
    for (const w of decodeWakeups(this.o.origin, payload)) this.emit(w);
  }

  private emit(w: Wakeup): void {
    for (const l of [...this.listeners]) {
      try {
        l(w);
      } catch (e) {
        this.o.onError?.(e);
      }
    }
  }
}
