import { createServer } from 'node:http';
import { context, propagation, trace } from '@opentelemetry/api';
import { expect, test } from 'vitest';
import { chooseExporter, startTracing } from './otel.ts';

test('the exporter follows the standard variables; no endpoint and no exporter named installs nothing', () => {
  expect(chooseExporter({})).toBe('none');
  expect(chooseExporter({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' })).toBe('otlp');
  expect(chooseExporter({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:4318/v1/traces' })).toBe('otlp');
  expect(chooseExporter({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_TRACES_EXPORTER: 'none' })).toBe('none');
  expect(chooseExporter({ OTEL_TRACES_EXPORTER: 'otlp' })).toBe('otlp');
  expect(chooseExporter({ OTEL_TRACES_EXPORTER: 'console' })).toBe('console');
  expect(chooseExporter({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_SDK_DISABLED: 'true' })).toBe('none');
});

test('OTEL_TRACES_EXPORTER=none leaves the API a no-op: spans record nothing', async () => {
  const tracing = startTracing({ env: { OTEL_TRACES_EXPORTER: 'none' } });
  expect(tracing.exporter).toBe('none');
  const span = trace.getTracer('t').startSpan('x');
  expect(span.isRecording()).toBe(false);
  span.end();
  await tracing.shutdown();
});

test('with OTEL_EXPORTER_OTLP_ENDPOINT set, spans reach an OTLP/HTTP collector', async () => {
  const received: { url: string; type: string; body: Buffer }[] = [];
  const collector = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ url: req.url ?? '', type: String(req.headers['content-type']), body: Buffer.concat(chunks) });
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => collector.listen(0, '127.0.0.1', () => r()));
  const endpoint = `http://127.0.0.1:${(collector.address() as { port: number }).port}`;
  const saved = process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT = endpoint;
  try {
    const tracing = startTracing({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_SERVICE_NAME: 'statekeeper-test' } });
    expect(tracing.exporter).toBe('otlp');
    trace.getTracer('t').startSpan('exported-span-name').end();
    await tracing.shutdown(); // flushes the batch
  } finally {
    if (saved === undefined) delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    else process.env.OTEL_EXPORTER_OTLP_ENDPOINT = saved;
    trace.disable();
    context.disable();
    propagation.disable();
    collector.close();
  }
  expect(received.map((r) => r.url)).toEqual(['/v1/traces']);
  expect(received[0]!.type).toBe('application/json');
  expect(received[0]!.body.includes(Buffer.from('exported-span-name'))).toBe(true);
  expect(received[0]!.body.includes(Buffer.from('statekeeper-test'))).toBe(true);
});
