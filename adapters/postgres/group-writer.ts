/**
 * Small writes of the same kind that arrive while earlier ones are in flight
 * go out together as one statement: under load, one round trip serves many
 * callers; alone, a write goes out at once. A statement that fails fails the
 * writes it carried.
 *
 * @remarks The commit path has its own, richer batcher (`commit-batcher.ts`:
 * one write per instance per statement, errors attributed per write); this
 * one is for independent row updates such as recording a step's attempt.
 */
export class GroupWriter<Req, Res> {
  private queue: { req: Req; resolve: (r: Res) => void; reject: (e: unknown) => void }[] = [];
  private inFlight = 0;

  constructor(
    /** Writes a batch; answers one result per request, in order. */
    private readonly write: (reqs: Req[]) => Promise<Res[]>,
    private readonly maxInFlight = 2,
    private readonly maxBatch = 64,
  ) {}

  submit(req: Req): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      this.queue.push({ req, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.inFlight++;
      this.write(batch.map((q) => q.req))
        .then(
          (results) => batch.forEach((q, i) => q.resolve(results[i]!)),
          (e: unknown) => batch.forEach((q) => q.reject(e)),
        )
        .finally(() => {
          this.inFlight--;
          this.pump();
        });
    }
  }
}
