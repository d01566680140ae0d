import { matchesFilter } from './bulk-filter.ts';
import { MAX_REPORTED_FAILURES, type BulkFilter, type BulkJobRecord, type BulkProgress, type BulkStore } from './bulk-types.ts';
import type { InstanceRecord } from './ports.ts';

const clone = <T>(v: T): T => structuredClone(v);

/** Bulk jobs of simulation mode: the same semantics as the Postgres store's, kept in memory. */
export class MemoryBulkStore implements BulkStore {
  private readonly jobs = new Map<string, BulkJobRecord>();

  /** @param instances the memory store's instance rows, read at each selection. */
  constructor(private readonly instances: () => Iterable<InstanceRecord>) {}

  private matching(tenant: string, filter: BulkFilter): string[] {
    return [...this.instances()]
      .filter((i) => matchesFilter(i, tenant, filter))
      .map((i) => i.id)
      .sort();
  }

  async countMatching(tenant: string, filter: BulkFilter, sample: number) {
    const ids = this.matching(tenant, filter);
    return { count: ids.length, sample: ids.slice(0, sample) };
  }

  async matchingIds(tenant: string, filter: BulkFilter, afterId: string | null, limit: number) {
    return this.matching(tenant, filter)
      .filter((id) => afterId === null || id > afterId)
      .slice(0, limit);
  }

  async createJob(job: BulkJobRecord) {
    this.jobs.set(job.id, clone(job));
  }

  async getJob(id: string) {
    const job = this.jobs.get(id);
    return job && clone(job);
  }

  async listJobs(tenant: string, limit: number, after?: { createdAt: Date; id: string }) {
    return [...this.jobs.values()]
      .filter((j) => j.tenant === tenant)
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1))
      .filter((j) => !after || j.createdAt < after.createdAt || (j.createdAt.getTime() === after.createdAt.getTime() && j.id < after.id))
      .slice(0, limit)
      .map(clone);
  }

  async claimJob(owner: string, now: Date, leaseUntil: Date) {
    const job = [...this.jobs.values()]
      .filter((j) => j.status === 'running' && (j.leaseUntil === null || j.leaseUntil < now))
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())[0];
    if (!job) return undefined;
    Object.assign(job, { leaseOwner: owner, leaseUntil, updatedAt: now });
    return clone(job);
  }

  async saveProgress(id: string, owner: string, p: BulkProgress) {
    const job = this.jobs.get(id);
    if (job?.leaseOwner !== owner) return false;
    // A batch cancelled while in hand is still counted (its instances were acted on); the job then stops.
    const running = job.status === 'running';
    const ends = !running || p.finished;
    Object.assign(job, {
      cursor: p.cursor,
      done: job.done + p.done,
      failed: job.failed + p.failed,
      skipped: job.skipped + p.skipped,
      failures: [...job.failures, ...clone(p.failures)].slice(0, MAX_REPORTED_FAILURES),
      leaseUntil: ends ? null : p.leaseUntil,
      leaseOwner: ends ? null : owner,
      status: running && p.finished ? 'completed' : job.status,
      finishedAt: running && p.finished ? p.now : job.finishedAt,
      updatedAt: p.now,
    });
    return job.status === 'running';
  }

  async releaseJob(id: string, owner: string) {
    const job = this.jobs.get(id);
    if (job?.leaseOwner === owner) Object.assign(job, { leaseOwner: null, leaseUntil: null });
  }

  async cancelJob(id: string, tenant: string, actor: string | null, now: Date) {
    const job = this.jobs.get(id);
    if (job?.tenant !== tenant) return undefined;
    if (job.status === 'running') {
      // The lease stays with the process running it, which records the batch in hand and stops.
      Object.assign(job, { status: 'cancelled', cancelledBy: actor, finishedAt: now, updatedAt: now });
    }
    return clone(job);
  }
}
