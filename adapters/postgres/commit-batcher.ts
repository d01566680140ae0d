import { effectOf } from '../../runtime/effect-address.ts';
import type { CommitRequest, CommitResult, CreateRequest, CreateResult } from '../../runtime/ports.ts';
import type { BatchSql } from './batch-statement.ts';
import { commitBatchSql } from './commit-sql.ts';
import { createBatchSql } from './create-sql.ts';
import type { Row } from './rows.ts';
import { ROOT_CONTEXT } from '@opentelemetry/api';
import type { CommitBatchInfo } from '../../runtime/observer.ts';
import { ATTR, SPAN, inSpan } from '../../runtime/telemetry.ts';

type Write = { kind: 'create'; req: CreateRequest } | { kind: 'commit'; req: CommitRequest };
interface Queued {
  write: Write;
  resolve: (r: CommitResult | CreateResult) => void;
  reject: (e: unknown) => void;
}

/**
 * Group commit: writes that arrive while earlier statements are in flight are
 * sent together as one statement (one round trip, one WAL flush), each still
 * succeeding or failing on its own version check.
 *
 * @remarks A lone write goes out at once, so sequential latency is that of a
 * single statement. A statement error (e.g. a duplicate idempotency key) fails
 * the whole batch, so its writes are then retried one statement each, which
 * attributes the error to the write that caused it.
 */
export class CommitBatcher {
  private queue: Queued[] = [];
  private inFlight = 0;

  constructor(
    private readonly exec: (stmt: { name: string; sql: string; params: unknown[] }) => Promise<Row[]>,
    private readonly maxInFlight = 2,
    private readonly maxBatch = 48,
    /** Told of every statement (size, latency, success) for the commit batch metrics. */
    private readonly onBatch?: (b: CommitBatchInfo) => void,
    /** Who the commits' change announcements come from (see pg-notifier.ts). */
    private readonly origin = '',
  ) {}

  submit<T extends CommitResult | CreateResult>(write: Write): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ write, resolve: resolve as Queued['resolve'], reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length) {
      const batch = this.take();
      this.inFlight++;
      void this.run(batch).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  /**
   * Next batch: writes of the first queued write's kind (creates and commits
   * are different statements), at most one per instance, and no effect close
   * whose effect belongs to another instance of the batch, so no row is
   * changed twice in one statement.
   */
  private take(): Queued[] {
    const batch: Queued[] = [];
    const rest: Queued[] = [];
    const instances = new Set<string>();
    const kind = this.queue[0]?.write.kind;
    for (const q of this.queue) {
      const id = instanceOf(q.write);
      const closes = q.write.kind === 'commit' ? q.write.req.closeEffect?.id : undefined;
      const clash =
        q.write.kind !== kind ||
        batch.length >= this.maxBatch ||
        instances.has(id) ||
        (closes !== undefined && [...instances].some((i) => effectOf(closes, i))) ||
        // ...nor a write whose instance's effects an earlier write of the batch closes.
        batch.some((b) => b.write.kind === 'commit' && b.write.req.closeEffect !== undefined && effectOf(b.write.req.closeEffect.id, id));
      if (clash) rest.push(q);
      else batch.push(q), instances.add(id);
    }
    this.queue = rest;
    return batch;
  }

  private async run(batch: Queued[]): Promise<void> {
    try {
      const results = await this.execute(batch);
      batch.forEach((q, n) => q.resolve(results[n]!));
    } catch (e) {
      if (batch.length === 1) return batch[0]!.reject(e);
      // Retry alone, so one write's error does not fail the others.
      await Promise.all(
        batch.map(async (q) => {
          try {
            q.resolve((await this.execute([q]))[0]!);
          } catch (err) {
            q.reject(err);
          }
        }),
      );
    }
  }

  /**
   * One statement, in a span of its own: a batch serves several instances'
   * traces at once, so it is a root span (OTel database attributes plus the
   * batch size) rather than a child of whichever event happened to come first.
   */
  private async execute(batch: Queued[]): Promise<(CommitResult | CreateResult)[]> {
    const kind = batch[0]!.write.kind;
    const stmt: BatchSql<CommitResult | CreateResult> =
      kind === 'create'
        ? createBatchSql(
            batch.map((q) => (q.write as { req: CreateRequest }).req),
            this.origin,
          )
        : commitBatchSql(
            batch.map((q) => (q.write as { req: CommitRequest }).req),
            this.origin,
          );
    const attrs = {
      'db.system.name': 'postgresql',
      'db.operation.name': kind,
      'db.operation.batch.size': batch.length,
      [ATTR.batchKind]: kind,
    };
    const started = performance.now();
    let ok = false;
    try {
      const rows = await inSpan(SPAN.commitBatch, ROOT_CONTEXT, attrs, () => this.exec(stmt));
      ok = true;
      return stmt.read(rows);
    } finally {
      this.onBatch?.({ kind, size: batch.length, durationMs: performance.now() - started, ok });
    }
  }
}

function instanceOf(w: Write): string {
  return w.kind === 'create' ? w.req.record.id : w.req.instanceId;
}
