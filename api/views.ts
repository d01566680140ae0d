/** Response bodies built from the runtime's views; sensitive fields are redacted here. */
import type { z } from '@hono/zod-openapi';
import type { EffectRecord, EventRecord, InstanceDetails, InstanceView, SendResult } from '../runtime/index.ts';
import type { HistoryEntrySchema, InstanceSchema, InstanceSummarySchema, SendResultSchema } from './schemas.ts';

/** Keys whose values never leave the server (matched anywhere in the key, case-insensitively). */
export const DEFAULT_REDACT_KEYS =
  /password|passwd|passphrase|secret|token|api[-_]?key|card[-_]?number|cvv|cvc|private[-_]?key|authorization|credential|^ssn$|iban/i;

/** What replaces a redacted value. */
export const REDACTED = '[redacted]';

/** Copies a JSON value, replacing the values of sensitive keys at any depth. */
export function redact(value: unknown, keys: RegExp = DEFAULT_REDACT_KEYS, depth = 0): unknown {
  if (value === null || typeof value !== 'object') return value;
  // Stored values are JSON, so cycles are impossible; the depth bound only guards against pathological nesting.
  if (depth > 64) return REDACTED;
  if (Array.isArray(value)) return value.map((v) => redact(v, keys, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = keys.test(k) ? REDACTED : redact(v, keys, depth + 1);
  return out;
}

const iso = (d: Date | null | undefined): string | null => (d ? new Date(d).toISOString() : null);

type Instance = z.infer<typeof InstanceSchema>;

/** Summary of an instance, as in lists. */
export function summaryBody(v: InstanceView): z.infer<typeof InstanceSummarySchema> {
  return {
    id: v.id,
    tenant: v.tenant,
    machine: { id: v.machine.id, version: v.machine.version },
    status: v.status,
    state: v.value,
    tags: v.tags,
    version: v.version,
    parentId: v.parentId,
    paused: v.paused,
    restartOf: v.restartOf,
    forkOf: v.forkOf,
    createdAt: iso(v.createdAt)!,
    updatedAt: iso(v.updatedAt)!,
  };
}

/** Full view: context, accepted events, steps, children and timers. */
export function instanceBody(d: InstanceDetails, keys?: RegExp, progress?: Instance['progress']): Instance {
  const of = (kind: EffectRecord['kind']) => d.effects.filter((e) => e.kind === kind);
  return {
    ...summaryBody(d),
    context: redact(d.context, keys),
    output: redact(d.output, keys),
    error: redact(d.error, keys),
    acceptedEvents: d.acceptedEvents.map((e) => ({ ...e })),
    workflow: {
      status: d.workflowStatus,
      steps: d.steps.map((st) => ({
        ...st,
        error: redact(st.error, keys),
        lastError: redact(st.lastError, keys),
        output: redact(st.output, keys),
        startedAt: iso(st.startedAt),
        finishedAt: iso(st.finishedAt),
        compensation: st.compensation && {
          ...st.compensation,
          error: redact(st.compensation.error, keys),
          startedAt: iso(st.compensation.startedAt)!,
          finishedAt: iso(st.compensation.finishedAt),
        },
      })),
    },
    steps: of('step').map((e) => ({
      id: e.id,
      name: e.name,
      step: e.target,
      status: e.status,
      attempts: e.attempts,
      input: redact(e.input, keys),
      result: redact(e.result, keys),
      error: redact(e.error, keys),
      lastError: redact(e.lastError, keys),
      nextAttemptAt: e.status === 'pending' ? iso(e.dueAt) : null,
      createdAt: iso(e.createdAt)!,
      updatedAt: iso(e.updatedAt)!,
      closedAt: iso(e.closedAt),
    })),
    children: of('child').map((e) => ({
      instanceId: e.id,
      name: e.name,
      machine: e.target,
      status: e.status,
      createdAt: iso(e.createdAt)!,
      closedAt: iso(e.closedAt),
    })),
    timers: of('timer').map((e) => ({
      name: e.name,
      status: e.status,
      dueAt: iso(e.dueAt),
      createdAt: iso(e.createdAt)!,
      closedAt: iso(e.closedAt),
    })),
    tasks: d.tasks.map((t) => ({
      ...{ id: t.id, state: t.state, title: t.title, event: t.event, roles: [...t.roles] },
      ...{ assignee: t.assignee, claimedBy: t.claimedBy, dueAt: iso(t.dueAt) },
    })),
    ...(progress ? { progress } : {}),
  };
}

/** One history row. */
export function historyEntry(e: EventRecord, keys?: RegExp): z.infer<typeof HistoryEntrySchema> {
  return {
    seq: e.seq,
    type: e.type,
    payload: redact(e.payload, keys),
    source: e.source,
    actor: e.actor,
    state: e.stateValue,
    handled: e.handled,
    createdAt: iso(e.createdAt)!,
  };
}

/** Result of an event, retry or cancel. */
export function sendResultBody(r: SendResult): z.infer<typeof SendResultSchema> {
  return {
    instanceId: r.instanceId,
    handled: r.handled,
    duplicate: r.duplicate,
    status: r.status,
    state: r.value,
    tags: r.tags,
    version: r.version,
  };
}
