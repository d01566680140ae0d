import { createHmac, timingSafeEqual } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Row } from './rows.ts';

/** Why a history chain is broken at a sequence number. */
export type ChainBreakReason =
  | 'gap' // a row is missing (deleted)
  | 'hash_mismatch' // the row's content does not hash to its stored hash (edited)
  | 'prev_mismatch' // the row does not link to the row before it (inserted, reordered or a predecessor rewritten)
  | 'unchained' // a row without hash after chained rows (written around the trigger)
  | 'missing_tail' // rows at the end are missing: the instance's version is past the last row
  | 'checkpoint_mismatch' // a signed checkpoint names a hash the chain no longer has at that row
  | 'bad_signature'; // a checkpoint's signature does not verify (forged, or signed by another key)

/** The first broken link of an instance's history. */
export interface ChainBreak {
  seq: number;
  reason: ChainBreakReason;
  message: string;
}

/** Result of verifying one instance's history. */
export interface HistoryVerification {
  instanceId: string;
  ok: boolean;
  /** History rows read. */
  events: number;
  /** Rows written before the chain existed (no hash): not verifiable, reported rather than failed. */
  unchainedPrefix: number;
  /** Signed checkpoints checked. */
  checkpoints: number;
  firstBreak: ChainBreak | null;
}

/** A key signing checkpoints: an id stored with each signature, and the HMAC-SHA256 secret. */
export interface CheckpointKey {
  id: string;
  secret: Buffer;
}

/**
 * Parses `id:base64secret[,id:base64secret…]` (the last key signs new
 * checkpoints; all of them verify). Secrets must be at least 32 bytes.
 */
export function parseCheckpointKeys(text: string | undefined): CheckpointKey[] {
  if (!text?.trim()) return [];
  return text.split(',').map((part) => {
    const [id, b64] = part.trim().split(':');
    const secret = Buffer.from(b64 ?? '', 'base64');
    if (!id || !/^[A-Za-z0-9_.-]{1,64}$/.test(id) || secret.length < 32) {
      throw new Error(`history checkpoint key "${id ?? ''}": expected <id>:<base64 secret of at least 32 bytes>`);
    }
    return { id, secret };
  });
}

const EVENTS_SQL = `select e.seq, e.hash, e.prev_hash, lag(e.hash) over w as before_hash, lag(e.seq) over w as before_seq,
    sk_event_digest(e.prev_hash, e.instance_id, e.seq, e.type, e.payload, e.source, e.actor, e.state_value, e.handled,
      e.idempotency_key, e.created_at) as digest
  from sk_event e where e.instance_id = ? window w as (order by e.seq) order by e.seq`;

/**
 * Verifies and checkpoints the per-instance history hash chain written by the
 * `sk_event_chain` trigger (see the history-chain migration).
 *
 * @example
 * ```ts
 * const chain = new PgHistoryChain(orm, parseCheckpointKeys(process.env.STATEKEEPER_HISTORY_KEYS));
 * const report = await chain.verify('order-17'); // report.firstBreak: { seq: 4, reason: 'hash_mismatch', … }
 * ```
 */
export class PgHistoryChain {
  constructor(
    private readonly orm: MikroORM,
    private readonly keys: readonly CheckpointKey[] = [],
  ) {}

  private rows(sql: string, params: unknown[]): Promise<Row[]> {
    return this.orm.em.getConnection().execute(sql, params, 'all') as Promise<Row[]>;
  }

  /** Verifies one instance's history; `undefined` when no such instance exists. */
  async verify(instanceId: string): Promise<HistoryVerification | undefined> {
    const [instance] = await this.rows(`select version from sk_instance where id = ?`, [instanceId]);
    if (!instance) return undefined;
    const events = await this.rows(EVENTS_SQL, [instanceId]);
    const checkpoints = await this.rows(
      `select seq, hash, key_id, signature from sk_history_checkpoint where instance_id = ? order by seq`,
      [instanceId],
    );
    const breaks: ChainBreak[] = [];
    const hashes = new Map<number, Buffer>();
    let chained = false;
    let unchainedPrefix = 0;
    for (const r of events) {
      const seq = Number(r.seq);
      const expected = r.before_seq == null ? 1 : Number(r.before_seq) + 1;
      if (seq !== expected) breaks.push({ seq: expected, reason: 'gap', message: `rows ${expected}..${seq - 1} are missing` });
      const hash = r.hash as Buffer | null;
      if (!hash) {
        if (chained) breaks.push({ seq, reason: 'unchained', message: `row ${seq} has no hash although earlier rows do` });
        else unchainedPrefix++;
        continue;
      }
      chained = true;
      hashes.set(seq, hash);
      if (!sameBytes(r.prev_hash as Buffer | null, r.before_hash as Buffer | null)) {
        breaks.push({ seq, reason: 'prev_mismatch', message: `row ${seq} does not link to the row stored before it` });
      }
      if (!sameBytes(hash, r.digest as Buffer))
        breaks.push({ seq, reason: 'hash_mismatch', message: `row ${seq} was changed after it was written` });
    }
    const last = events.length ? Number(events.at(-1)!.seq) : 0;
    const version = Number(instance.version);
    if (last < version)
      breaks.push({ seq: last + 1, reason: 'missing_tail', message: `the instance is at version ${version} but history ends at ${last}` });
    for (const c of checkpoints) {
      const seq = Number(c.seq);
      const key = this.keys.find((k) => k.id === c.key_id);
      if (key && !sameBytes(sign(key, instanceId, seq, c.hash as Buffer), c.signature as Buffer)) {
        breaks.push({ seq, reason: 'bad_signature', message: `the checkpoint at row ${seq} (key ${String(c.key_id)}) does not verify` });
      } else if (!sameBytes(hashes.get(seq) ?? null, c.hash as Buffer)) {
        breaks.push({ seq, reason: 'checkpoint_mismatch', message: `row ${seq} no longer has the hash signed at the checkpoint` });
      }
    }
    breaks.sort((a, b) => a.seq - b.seq);
    return {
      instanceId,
      ok: breaks.length === 0,
      events: events.length,
      unchainedPrefix,
      checkpoints: checkpoints.length,
      firstBreak: breaks[0] ?? null,
    };
  }

  /** Verifies every instance, in id order, calling `each` per instance; returns how many are broken. */
  async verifyAll(each: (v: HistoryVerification) => void, batch = 500): Promise<{ instances: number; broken: number }> {
    let after = '';
    let instances = 0;
    let broken = 0;
    for (;;) {
      const ids = await this.rows(`select id from sk_instance where id > ? order by id limit ?`, [after, batch]);
      for (const { id } of ids) {
        const v = await this.verify(String(id));
        if (!v) continue;
        instances++;
        if (!v.ok) broken++;
        each(v);
      }
      if (ids.length < batch) return { instances, broken };
      after = String(ids.at(-1)!.id);
    }
  }

  /**
   * Signs the current chain head of up to `limit` instances whose head has no
   * checkpoint yet, with the newest key; returns how many it signed.
   * @remarks Run periodically (see `startHistoryCheckpoints`). A no-op without keys.
   */
  async checkpoint(now: Date, limit = 500): Promise<number> {
    const key = this.keys.at(-1);
    if (!key) return 0;
    const heads = await this.rows(
      `select e.instance_id, e.seq, e.hash from sk_instance i join sk_event e on e.instance_id = i.id and e.seq = i.version
       where e.hash is not null and not exists (select 1 from sk_history_checkpoint c where c.instance_id = i.id and c.seq = i.version)
       limit ?`,
      [limit],
    );
    if (heads.length === 0) return 0;
    const rows = heads.map((h) => ({
      instance_id: String(h.instance_id),
      seq: Number(h.seq),
      hash: (h.hash as Buffer).toString('hex'),
      signature: sign(key, String(h.instance_id), Number(h.seq), h.hash as Buffer).toString('hex'),
    }));
    await this.rows(
      `insert into sk_history_checkpoint (instance_id, seq, hash, key_id, signature, created_at)
       select r.instance_id, r.seq, decode(r.hash, 'hex'), ?, decode(r.signature, 'hex'), ?::timestamptz
       from jsonb_to_recordset(?::jsonb) as r(instance_id text, seq int, hash text, signature text)
       on conflict do nothing`,
      [key.id, now.toISOString(), JSON.stringify(rows)],
    );
    return rows.length;
  }
}

/**
 * Signs checkpoints every `intervalMs` until the returned function is called.
 * @remarks Errors are reported through `onError` and the next round tries again.
 */
export function startHistoryCheckpoints(chain: PgHistoryChain, intervalMs: number, onError: (e: unknown) => void): () => Promise<void> {
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    running = running.then(() => chain.checkpoint(new Date())).catch(onError);
  }, intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}

// What a checkpoint signs: the instance, the row and the chain hash at that row.
function sign(key: CheckpointKey, instanceId: string, seq: number, hash: Buffer): Buffer {
  return createHmac('sha256', key.secret).update(`statekeeper-history-v1\n${instanceId}\n${seq}\n`).update(hash).digest();
}

function sameBytes(a: Buffer | null, b: Buffer | null): boolean {
  if (a === null || b === null) return a === b;
  return a.length === b.length && timingSafeEqual(a, b);
}
