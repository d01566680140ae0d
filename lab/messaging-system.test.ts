import { describe, expect, it } from 'vitest';
import { createLab } from './lab.ts';

describe('messaging outboxes', () => {
  it('keeps every email and SMS in order, never as a live record', async () => {
    const lab = createLab({ now: () => new Date('2025-10-15T00:00:00Z') });
    await lab.clients.messaging.sendEmail(
      { to: 'ada@example.net', template: 'welcome', data: { plan: 'basic' } },
      { idempotencyKey: 'e1' },
    );
    await lab.clients.messaging.sendSms({ to: '+4915112345678', text: 'Your line is active' }, { idempotencyKey: 's1' });
    expect((await lab.records()).messaging.messages).toEqual([
      {
        messageId: 'msg_000001',
        channel: 'email',
        to: 'ada@example.net',
        template: 'welcome',
        data: { plan: 'basic' },
        sentAt: '2025-10-15T00:00:00.000Z',
      },
      { messageId: 'msg_000002', channel: 'sms', to: '+4915112345678', text: 'Your line is active', sentAt: '2025-10-15T00:00:00.000Z' },
    ]);
    expect(lab.systems.messaging.records('ada@example.net')).toHaveLength(1);
    expect(await lab.liveRecordCount()).toBe(0);
  });

  it('rejects bad addresses without retry', async () => {
    const lab = createLab();
    await expect(lab.clients.messaging.sendEmail({ to: 'nobody', template: 't' }, { idempotencyKey: 'e' })).rejects.toMatchObject({
      retryable: false,
    });
    await expect(lab.clients.messaging.sendSms({ to: 'call me', text: 't' }, { idempotencyKey: 's' })).rejects.toMatchObject({
      retryable: false,
    });
  });
});
