import type { CallOptions } from '../../actors/clients/index.ts';
import { LabError, type LabErrorCode } from '../errors.ts';
import { IDEMPOTENCY_HEADER, LOOKUP_HEADER } from './route-kit.ts';

/** Options of the HTTP clients. */
export interface HttpClientsOptions {
  /** The `fetch` to use (default the global one). */
  fetch?: typeof fetch;
  /** Headers sent with every request (e.g. authorization in front of a shared lab). */
  headers?: Record<string, string>;
}

/** One request to the lab service. */
export interface LabRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  body?: unknown;
  /** Call options: the idempotency key becomes the `Idempotency-Key` header, the signal goes to `fetch`. */
  options?: Partial<CallOptions>;
}

/**
 * Sends requests to the lab service and maps failures to {@link LabError}s
 * (which are `ExternalSystemError`s).
 *
 * @remarks `retryable` follows the status: 5xx and 429 are retryable, other
 * 4xx are not. A service that cannot be reached is retryable too. An aborted
 * signal rejects with the signal's reason, as `fetch` does.
 */
export class LabHttpTransport {
  private readonly baseUrl: string;
  private readonly fetch: typeof fetch;

  constructor(
    baseUrl: string,
    private readonly options: HttpClientsOptions = {},
  ) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  /** Sends the request; resolves with the JSON answer (undefined for 204). */
  async send<T>(system: string, operation: string, req: LabRequest): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json', ...this.options.headers };
    if (req.body !== undefined) headers['content-type'] = 'application/json';
    if (req.options?.idempotencyKey !== undefined) headers[IDEMPOTENCY_HEADER] = req.options.idempotencyKey;
    if (req.options?.lookupOnly) headers[LOOKUP_HEADER] = 'only';
    const url = `${this.baseUrl}${req.path}`;
    let response: Response;
    try {
      response = await this.fetch(url, {
        method: req.method,
        headers,
        signal: req.options?.signal ?? null,
        body: req.body === undefined ? null : JSON.stringify(req.body),
      });
    } catch (error) {
      if (req.options?.signal?.aborted) throw req.options.signal.reason;
      const message = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
      throw new LabError('upstream_error', system, operation, `cannot reach the lab at ${url}: ${message}`, true, undefined, {
        cause: error,
      });
    }
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    const body = parseJson(text);
    if (response.ok) return body as T;
    const { code, message } = (body ?? {}) as { code?: LabErrorCode; message?: string };
    const retryable = response.status >= 500 || response.status === 429;
    throw new LabError(
      code ?? 'upstream_error',
      system,
      operation,
      message ?? `${req.method} ${req.path} answered ${response.status}: ${text.slice(0, 200)}`,
      retryable,
      response.status,
    );
  }
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A path segment, percent-encoded. */
export function seg(value: string | number): string {
  return encodeURIComponent(String(value));
}
