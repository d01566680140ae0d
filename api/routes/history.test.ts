import { describe, expect, test } from 'vitest';
import { createStandardTestApi } from '../../test/support/api-test-support.ts';
import { payoutInput } from '../../test/fixtures/api-machines.ts';

describe('GET /v1/instances/{id}/history', () => {
  test('pages by sequence number, gapless, with actors and redacted payloads', async () => {
    const api = await createStandardTestApi();
    await api.call('POST', '/v1/machines/payout/instances?wait=settled', { body: { input: payoutInput(), instanceId: 'h-1' } });
    for (let i = 0; i < 5; i++)
      await api.call('POST', '/v1/instances/h-1/events', {
        body: { type: 'payout.note', text: `n${i}`, secretCode: 'abc' },
        key: api.keys.operator,
      });

    const seqs: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const r: { status: number; body: { items: { seq: number }[]; nextCursor: string | null } } = await api.call(
        'GET',
        `/v1/instances/h-1/history?limit=3${cursor ? `&cursor=${cursor}` : ''}`,
        { key: api.keys.viewer },
      );
      expect(r.status).toBe(200);
      seqs.push(...r.body.items.map((e) => e.seq));
      cursor = r.body.nextCursor;
      pages++;
    } while (cursor);
    expect(seqs).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(pages).toBe(3);

    const { body } = await api.call('GET', '/v1/instances/h-1/history?cursor=2&limit=2');
    expect(body.items).toEqual([
      {
        seq: 3,
        type: 'payout.note',
        payload: { text: 'n0', secretCode: '[redacted]' },
        source: 'api',
        actor: 'apikey:ops',
        state: 'review',
        handled: true,
        createdAt: '2030-01-01T00:00:00.000Z',
      },
      expect.objectContaining({ seq: 4 }),
    ]);
    const first = await api.call('GET', '/v1/instances/h-1/history?limit=1');
    expect(first.body.items[0]).toMatchObject({
      type: 'xstate.init',
      source: 'start',
      actor: 'apikey:admin',
      payload: { input: { cardNumber: '[redacted]' } },
    });
  });

  test('bad cursor or limit 400, unknown instance 404', async () => {
    const api = await createStandardTestApi();
    await api.call('POST', '/v1/machines/deadline/instances', { body: { instanceId: 'd-1' } });
    for (const q of ['cursor=abc', 'cursor=-1', 'limit=0', 'limit=1000', 'after=1'])
      expect((await api.call('GET', `/v1/instances/d-1/history?${q}`)).status, q).toBe(400);
    expect((await api.call('GET', '/v1/instances/ghost/history')).status).toBe(404);
  });

  test('verify=true on a store without a hash chain is a 501 with a code', async () => {
    const api = await createStandardTestApi();
    await api.call('POST', '/v1/machines/deadline/instances', { body: { instanceId: 'd-2' } });
    const r = await api.call('GET', '/v1/instances/d-2/history?verify=true');
    expect(r.status).toBe(501);
    expect(r.body.error.code).toBe('verification_unavailable');
  });
});
