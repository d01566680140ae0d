import { OpenAPIHono } from '@hono/zod-openapi';
import { HTTPException } from 'hono/http-exception';
import { describe, expect, test } from 'vitest';
import { RuntimeError, type RuntimeErrorCode } from '../../runtime/index.ts';
import type { ApiEnv } from '../env.ts';
import { RUNTIME_STATUS } from '../errors.ts';
import { errorHandler, notFoundHandler, validationHook } from './errors.ts';
import { requestId } from './request-id.ts';

function appThrowing(make: () => unknown) {
  const reported: unknown[] = [];
  const app = new OpenAPIHono<ApiEnv>({ defaultHook: validationHook });
  app.use(requestId());
  app.onError(errorHandler((e) => reported.push(e)));
  app.notFound(notFoundHandler);
  app.get('/boom', () => {
    throw make();
  });
  return { app, reported };
}

describe('error mapping', () => {
  const expected: Record<RuntimeErrorCode, number> = {
    invalid_argument: 400,
    machine_not_found: 404,
    machine_version_not_found: 404,
    instance_not_found: 404,
    instance_exists: 409,
    idempotency_conflict: 422,
    incompatible_snapshot: 409,
    instance_not_active: 409,
    instance_paused: 409,
    event_not_allowed: 403,
    concurrency_exhausted: 409,
    runtime_closed: 503,
    timeout: 504,
    step_interrupted: 500,
    definition_invalid: 422,
    definition_conflict: 409,
    machine_already_registered: 500,
    step_not_registered: 500,
    unsupported_machine: 500,
    unserializable_value: 422,
    transition_failed: 422,
    input_invalid: 422,
    task_not_found: 404,
    task_closed: 409,
    task_claimed: 409,
    task_not_allowed: 403,
    answer_invalid: 422,
    invalid_task: 500,
    delay_too_short: 422,
    transition_rate_exceeded: 429,
    invalid_seq: 400,
    fork_replay_mismatch: 409,
    migration_same_version: 409,
    migration_state_missing: 422,
    migration_context_invalid: 422,
    migration_unresolvable: 422,
    migration_failed: 422,
    outbox_unavailable: 501,
    subscription_not_found: 404,
    delivery_not_found: 404,
    delivery_not_ended: 409,
    invalid_correlation_value: 422,
    correlation_not_found: 404,
    correlation_ambiguous: 409,
    cron_invalid: 400,
    timezone_invalid: 400,
    schedule_not_found: 404,
    schedule_exists: 409,
    schedule_overlap: 409,
    not_supported: 501,
    bulk_job_not_found: 404,
    bulk_unavailable: 503,
  };

  test('every runtime error code has its status and keeps its code and message', async () => {
    expect(RUNTIME_STATUS).toEqual(expected);
    for (const [code, status] of Object.entries(expected) as [RuntimeErrorCode, number][]) {
      const { app } = appThrowing(() => new RuntimeError(code, `message for ${code}`, { instanceId: 'i-1' }));
      const res = await app.request('/boom', { headers: { 'X-Request-Id': 'req-1' } });
      const body = await res.json();
      expect(res.status, code).toBe(status);
      if (status === 500)
        expect(body.error).toEqual({ code: 'internal_error', message: expect.not.stringContaining(code), requestId: 'req-1' });
      else expect(body.error).toEqual({ code, message: `message for ${code}`, requestId: 'req-1', details: { instanceId: 'i-1' } });
    }
  });

  test('an unexpected error is a 500 with the request id only: no message, no stack; it is reported', async () => {
    const { app, reported } = appThrowing(() => new TypeError('secret internals at /srv/app.ts:12'));
    const res = await app.request('/boom');
    const text = await res.text();
    expect(res.status).toBe(500);
    expect(text).not.toMatch(/secret internals|at \/|TypeError|stack/);
    expect(JSON.parse(text).error).toMatchObject({ code: 'internal_error', requestId: res.headers.get('x-request-id') });
    expect(reported).toHaveLength(1);
  });

  test("Hono's HTTP exceptions keep the error shape", async () => {
    const cases: [HTTPException, number, string][] = [
      [new HTTPException(400, { message: 'Malformed JSON in request body' }), 400, 'malformed_json'],
      [new HTTPException(415, { message: 'Unsupported Media Type' }), 415, 'unsupported_media_type'],
      [new HTTPException(413), 413, 'payload_too_large'],
      [new HTTPException(405, { message: 'nope' }), 405, 'bad_request'],
      [new HTTPException(502), 500, 'internal_error'],
    ];
    for (const [e, status, code] of cases) {
      const { app } = appThrowing(() => e);
      const res = await app.request('/boom');
      expect([res.status, (await res.json()).error.code]).toEqual([status, code]);
    }
  });

  test('a database outage is a 503 with Retry-After and code database_unavailable, not a 500', async () => {
    const terminated = Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const wrapped = new Error('query failed', { cause: new Error('Connection terminated unexpectedly') });
    for (const e of [terminated, refused, wrapped]) {
      const { app, reported } = appThrowing(() => e);
      const res = await app.request('/boom');
      expect(res.status, e.message).toBe(503);
      expect(res.headers.get('Retry-After')).toBe('2');
      expect((await res.json()).error.code).toBe('database_unavailable');
      expect(reported).toEqual([]);
    }
    // A query error is the server's fault: still a 500.
    const { app } = appThrowing(() => Object.assign(new Error('syntax error'), { code: '42601' }));
    expect((await app.request('/boom')).status).toBe(500);
  });
});
