import { SpanKind } from '@opentelemetry/api';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createLogger } from '../../observability/logger.ts';
import { ATTR, SPAN } from '../../runtime/telemetry.ts';
import { createStandardTestApi, type TestApi } from '../support/api-test-support.ts';
import { lineCollector, parentOf, startTestTracing, stopTestTracing, traceparent } from './trace-support.ts';

const t = startTestTracing();
const out = lineCollector();
let api: TestApi;

beforeAll(async () => {
  api = await createStandardTestApi({ deps: { log: createLogger({ destination: out, level: 'info' }) } });
});
afterAll(() => stopTestTracing(t));

test('a request is a server span continuing the incoming traceparent, with HTTP semantic-convention attributes', async () => {
  const tp = traceparent();
  const res = await api.call('GET', '/v1/machines', { headers: { traceparent: tp.header } });
  expect(res.status).toBe(200);
  const span = t.exporter.getFinishedSpans().find((s) => s.kind === SpanKind.SERVER && s.spanContext().traceId === tp.traceId)!;
  expect(span.name).toBe('GET /v1/machines');
  expect(parentOf(span)).toBe(tp.spanId);
  expect(span.attributes).toMatchObject({
    'http.request.method': 'GET',
    'http.route': '/v1/machines',
    'http.response.status_code': 200,
    'url.path': '/v1/machines',
  });
});

test('one JSON log line per request with method, route, status, duration, request id, trace id and instance id', async () => {
  const tp = traceparent();
  const started = await api.call('POST', '/v1/machines/greeting/instances', {
    body: { input: { name: 'Ada' } },
    headers: { traceparent: tp.header, 'X-Request-Id': 'req-start-1' },
  });
  expect(started.status).toBe(201);
  const id = started.body.id as string;
  await api.call('GET', `/v1/instances/${id}`, { headers: { 'X-Request-Id': 'req-get-1' } });
  const missing = await api.call('GET', '/v1/nowhere');
  expect(missing.status).toBe(404);

  const start = out.lines.find((l) => l.request_id === 'req-start-1')!;
  expect(start).toMatchObject({
    level: 'info',
    msg: 'request',
    method: 'POST',
    route: '/v1/machines/:id/instances',
    status: 201,
    trace_id: tp.traceId,
  });
  expect(typeof start.duration_ms).toBe('number');
  const get = out.lines.find((l) => l.request_id === 'req-get-1')!;
  expect(get).toMatchObject({ method: 'GET', route: '/v1/instances/:id', status: 200, instance_id: id });
  expect(get.trace_id).toMatch(/^[0-9a-f]{32}$/);
  expect(out.lines.find((l) => l.path === '/v1/nowhere')).toMatchObject({ status: 404, route: null });
  // Every request line carries a trace id.
  expect(out.lines.filter((l) => l.msg === 'request').every((l) => /^[0-9a-f]{32}$/.test(l.trace_id))).toBe(true);
});

test('a workflow started by a request joins its trace; a later request links to it, its event stays in the workflow trace', async () => {
  const first = traceparent();
  const started = await api.call('POST', '/v1/machines/greeting/instances', {
    body: { input: { name: 'Grace' } },
    headers: { traceparent: first.header },
  });
  const id = started.body.id as string;
  await api.sim.settle();
  const second = traceparent();
  const sent = await api.call('POST', `/v1/instances/${id}/events`, {
    body: { type: 'greeting.confirm' },
    headers: { traceparent: second.header },
  });
  expect(sent.status).toBe(200);

  const spans = t.exporter.getFinishedSpans();
  const startSpan = spans.find((s) => s.name === SPAN.start && s.attributes[ATTR.instanceId] === id)!;
  const startRequest = spans.find((s) => s.kind === SpanKind.SERVER && s.spanContext().traceId === first.traceId)!;
  expect(startSpan.spanContext().traceId).toBe(first.traceId);
  expect(parentOf(startSpan)).toBe(startRequest.spanContext().spanId);

  const events = spans.filter((s) => s.name === SPAN.event && s.attributes[ATTR.instanceId] === id);
  expect(events.map((s) => s.attributes[ATTR.eventType])).toEqual(['xstate.done.actor.compose', 'greeting.confirm']);
  expect(new Set(events.map((s) => s.spanContext().traceId))).toEqual(new Set([first.traceId]));
  const confirm = events[1]!;
  const sendRequest = spans.find((s) => s.kind === SpanKind.SERVER && s.spanContext().traceId === second.traceId)!;
  expect(confirm.links.map((l) => l.context.spanId)).toEqual([sendRequest.spanContext().spanId]);
  const step = spans.find((s) => s.name === SPAN.step && s.attributes[ATTR.instanceId] === id)!;
  expect(step.spanContext().traceId).toBe(first.traceId);
});
