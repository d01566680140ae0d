/**
 * The dashboard's client of the public HTTP API: every call carries the
 * user's bearer key, and errors keep the API's stable `code`.
 */
import type { z } from '@hono/zod-openapi';
import type {
  AcceptedEventSchema,
  HistoryEntrySchema,
  InstanceSchema,
  InstanceSummarySchema,
  MachineSchema,
  MachineSummarySchema,
  SendResultSchema,
  StatsSchema,
} from '../../api/schemas.ts';
import type { TaskSchema } from '../../api/routes/tasks.ts';

/** An instance in full, as `GET /v1/instances/{id}` answers. */
export type Instance = z.infer<typeof InstanceSchema>;
/** An instance as listed. */
export type InstanceSummary = z.infer<typeof InstanceSummarySchema>;
/** One history row. */
export type HistoryEntry = z.infer<typeof HistoryEntrySchema>;
/** A machine as listed. */
export type MachineSummary = z.infer<typeof MachineSummarySchema>;
/** A machine with its versions. */
export type Machine = z.infer<typeof MachineSchema>;
/** Tenant statistics. */
export type Stats = z.infer<typeof StatsSchema>;
/** An event the current state accepts. */
export type AcceptedEvent = z.infer<typeof AcceptedEventSchema>;
/** A human task, with its answer form (JSON Schema). */
export type Task = z.infer<typeof TaskSchema>;
/** Filters of the task inbox (empty string: no filter). */
export interface TaskFilters {
  role: string;
  assignee: string;
  machine: string;
}

/** Answer of an event or retry. */
export type SendResult = z.infer<typeof SendResultSchema>;

/** Filters of the instance list (empty string: no filter). */
export interface InstanceFilters {
  machine: string;
  status: string;
  state: string;
}

/** An error answer of the API, with its stable code and request id. */
export class ApiRequestError extends Error {
  override name = 'ApiRequestError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId?: string,
  ) {
    super(message);
  }
}

const enc = encodeURIComponent;

/** A client bound to one key. */
export function createApiClient(key: string) {
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const headers: Record<string, string> = { Authorization: `Bearer ${key}` };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    const json = text ? (JSON.parse(text) as unknown) : undefined;
    if (!res.ok) {
      const err = (json as { error?: { code?: string; message?: string; requestId?: string } } | undefined)?.error;
      throw new ApiRequestError(
        res.status,
        err?.code ?? 'http_error',
        err?.message ?? `${method} ${path}: HTTP ${res.status}`,
        err?.requestId,
      );
    }
    return json as T;
  };
  return {
    key,
    machines: () => call<{ items: MachineSummary[] }>('GET', '/v1/machines'),
    machine: (id: string) => call<Machine>('GET', `/v1/machines/${enc(id)}`),
    /** The Mermaid text of a machine version (`id@version`). */
    async mermaid(ref: string): Promise<string> {
      const res = await fetch(`/v1/machines/${enc(ref)}/definition?format=mermaid`, { headers: { Authorization: `Bearer ${key}` } });
      if (!res.ok) throw new ApiRequestError(res.status, 'http_error', `diagram of ${ref}: HTTP ${res.status}`);
      return res.text();
    },
    stats: () => call<Stats>('GET', '/v1/stats'),
    instances(filters: InstanceFilters, limit = 50) {
      const q = new URLSearchParams({ limit: String(limit) });
      for (const [k, v] of Object.entries(filters)) if (v) q.set(k, v);
      return call<{ items: InstanceSummary[]; nextCursor: string | null }>('GET', `/v1/instances?${q}`);
    },
    instance: (id: string) => call<Instance>('GET', `/v1/instances/${enc(id)}`),
    /** The whole history, page by page. */
    async history(id: string): Promise<HistoryEntry[]> {
      const all: HistoryEntry[] = [];
      for (let cursor: string | null = null; ; ) {
        const page: { items: HistoryEntry[]; nextCursor: string | null } = await call(
          'GET',
          `/v1/instances/${enc(id)}/history?limit=500${cursor ? `&cursor=${cursor}` : ''}`,
        );
        all.push(...page.items);
        if (!page.nextCursor) return all;
        cursor = page.nextCursor;
      }
    },
    start: (machine: string, input: unknown) =>
      call<Instance & { created: boolean }>('POST', `/v1/machines/${enc(machine)}/instances`, { input }),
    send: (id: string, event: { type: string } & Record<string, unknown>) =>
      call<SendResult>('POST', `/v1/instances/${enc(id)}/events`, event),
    retry: (id: string) => call<SendResult>('POST', `/v1/instances/${enc(id)}/retry`, {}),
    cancel: (id: string, reason?: string) => call<Instance>('POST', `/v1/instances/${enc(id)}/cancel`, reason ? { reason } : {}),
    tasks(filters: TaskFilters, limit = 100) {
      const q = new URLSearchParams({ limit: String(limit) });
      for (const [k, v] of Object.entries(filters)) if (v) q.set(k, v);
      return call<{ items: Task[]; nextCursor: string | null }>('GET', `/v1/tasks?${q}`);
    },
    task: (id: string) => call<Task>('GET', `/v1/tasks/${enc(id)}`),
    claimTask: (id: string) => call<Task>('POST', `/v1/tasks/${enc(id)}/claim`, {}),
    completeTask: (id: string, answer: unknown) => call<{ task: Task }>('POST', `/v1/tasks/${enc(id)}/complete`, { answer }),
  };
}

/** A client bound to one key. */
export type ApiClient = ReturnType<typeof createApiClient>;
