import type { ServerError } from './observation.ts';

/** An answer the server gave (not a 5xx: those are retried). */
export interface Answer {
  status: number;
  body: any;
}

/**
 * The clients' HTTP: every request is retried with the same headers (so the
 * same `Idempotency-Key`) while the server is away or answers 5xx, as a
 * careful client does; each 5xx is noted with its time for the report.
 */
export class ApiClient {
  readonly serverErrors: ServerError[] = [];

  constructor(
    private readonly base: string,
    private readonly key: () => string,
  ) {}

  /** Sends until an answer below 500 arrives; `undefined` when `deadline` (ms since epoch) passes first. */
  async request(method: string, path: string, options: { body?: unknown; key?: string; deadline: number }): Promise<Answer | undefined> {
    const headers: Record<string, string> = { Authorization: `Bearer ${this.key()}` };
    if (options.body !== undefined) headers['Content-Type'] = 'application/json';
    if (options.key) headers['Idempotency-Key'] = options.key;
    while (Date.now() < options.deadline) {
      try {
        const response = await fetch(`${this.base}${path}`, {
          method,
          headers,
          body: options.body === undefined ? null : JSON.stringify(options.body),
          signal: AbortSignal.timeout(30_000),
        });
        const text = await response.text();
        if (response.status < 500) return { status: response.status, body: text ? JSON.parse(text) : undefined };
        this.serverErrors.push({ at: Date.now(), status: response.status, what: `${method} ${path.split('?')[0]}: ${text.slice(0, 300)}` });
      } catch {
        // Away (killed, restarting) or the answer was lost: the same request again.
      }
      await new Promise((r) => setTimeout(r, 200 + Math.random() * 300));
    }
    return undefined;
  }
}
