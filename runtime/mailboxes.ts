/**
 * Per-key FIFO queues: work for one instance runs one at a time, in arrival
 * order, while different instances proceed concurrently.
 */
export class Mailboxes {
  private readonly tails = new Map<string, Promise<unknown>>();
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];

  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    this.inFlight++;
    const result = prev.then(fn, fn);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
      if (--this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
    });
    return result;
  }

  busy(key: string): boolean {
    return this.tails.has(key);
  }

  /** Resolves once no work is queued or running. */
  idle(): Promise<void> {
    return this.inFlight === 0 ? Promise.resolve() : new Promise((r) => this.idleWaiters.push(r));
  }
}
