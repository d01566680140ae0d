import { describe, expect, it } from 'vitest';
import { createLab } from '../lab.ts';
import { createHttpClients } from './http-clients.ts';
import { startLabServer } from './lab-server.ts';

describe('startLabServer', () => {
  it('serves the lab on a free port and closes', async () => {
    const lab = createLab();
    const { url, close } = await startLabServer(lab);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const clients = createHttpClients(url);
    await clients.messaging.sendSms({ to: '+4915112345678', text: 'hi' }, { idempotencyKey: 'sms-1' });
    expect(lab.systems.messaging.records()).toHaveLength(1);
    await close();
    await expect(clients.messaging.sendSms({ to: '+4915112345678', text: 'hi' }, { idempotencyKey: 'sms-2' })).rejects.toMatchObject({
      code: 'upstream_error',
      retryable: true,
    });
  });

  it('rejects when the port is taken', async () => {
    const lab = createLab();
    const first = await startLabServer(lab);
    const port = Number(new URL(first.url).port);
    await expect(startLabServer(lab, { port })).rejects.toMatchObject({ code: 'EADDRINUSE' });
    await first.close();
  });
});
