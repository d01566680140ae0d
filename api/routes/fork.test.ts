import { describe, expect, test } from 'vitest';
import { createStandardTestApi } from '../../test/support/api-test-support.ts';
import { payoutInput } from '../../test/fixtures/api-machines.ts';

describe('POST /v1/instances/{id}/fork?seq=N', () => {
  test('201: a fork in the state after the entry, the charge not made again before it and made again after it', async () => {
    let charges = 0;
    const api = await createStandardTestApi({ charge: async () => (charges++, { receipt: `r-${charges}`, token: 'tok_abc' }) });
    const started = await api.call('POST', '/v1/machines/payout/instances?wait=settled', {
      body: { input: payoutInput(), instanceId: 'p-1' },
    });
    const id = started.body.id;
    await api.call('POST', `/v1/instances/${id}/events`, { body: { type: 'payout.note', text: 'checked' } });
    await api.call('POST', `/v1/instances/${id}/cancel`, { body: { reason: 'duplicate' }, key: api.keys.operator });
    expect(charges).toBe(1);

    // Entry 3: the note was taken while waiting for approval; the charge (entry 2) is reused.
    const r = await api.call('POST', `/v1/instances/${id}/fork?seq=3`, {
      body: { reason: 'cancelled by mistake' },
      key: api.keys.operator,
    });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ forkOf: { id, seq: 3 }, status: 'active', state: 'review', version: 4 });
    expect(r.body.context).toMatchObject({ notes: ['checked'], receipt: { receipt: 'r-1' } });
    expect((await api.call('GET', `/v1/instances/${r.body.id}`)).body.forkOf).toEqual({ id, seq: 3 });
    await api.sim.settle();
    expect(charges).toBe(1);
    expect((await api.runtime.history(id, { tenant: 'acme' })).at(-1)).toMatchObject({
      type: 'statekeeper.forked',
      actor: 'apikey:ops',
      payload: { forkedAs: r.body.id, seq: 3, reason: 'cancelled by mistake' },
    });

    // Entry 1: the charge was in flight; the fork makes it again under its own key.
    const early = await api.call('POST', `/v1/instances/${id}/fork?seq=1`, {});
    expect(early.status).toBe(201);
    await api.sim.settle();
    expect(charges).toBe(2);
    expect((await api.runtime.get(early.body.id, { tenant: 'acme' })).context).toMatchObject({ receipt: { receipt: 'r-2' } });
  });

  test('400 for a missing, malformed or out-of-range seq or a bad body, 403 for a viewer, 404 unknown or another tenant', async () => {
    const api = await createStandardTestApi();
    const started = await api.call('POST', '/v1/machines/payout/instances?wait=settled', {
      body: { input: payoutInput(), instanceId: 'p-1' },
    });
    const id = started.body.id;
    const status = async (path: string, o: Parameters<typeof api.call>[2] = {}) => {
      const res = await api.call('POST', path, o);
      return [res.status, res.body?.error?.code];
    };
    expect(await status(`/v1/instances/${id}/fork`)).toEqual([400, 'validation_failed']);
    for (const seq of ['abc', '0', '-1', '1.5', '1e3']) {
      expect(await status(`/v1/instances/${id}/fork?seq=${seq}`)).toEqual([400, 'validation_failed']);
    }
    expect(await status(`/v1/instances/${id}/fork?seq=3`)).toEqual([400, 'invalid_seq']);
    expect(await status(`/v1/instances/${id}/fork?seq=1`, { body: { why: 'x' } })).toEqual([400, 'validation_failed']);
    expect(await status(`/v1/instances/${id}/fork?seq=1`, { key: api.keys.viewer })).toEqual([403, 'forbidden']);
    expect(await status('/v1/instances/nope/fork?seq=1')).toEqual([404, 'instance_not_found']);
    expect(await status(`/v1/instances/${id}/fork?seq=1`, { key: api.keys.otherTenant })).toEqual([404, 'instance_not_found']);
    expect((await api.runtime.list({ tenant: 'acme' })).items).toHaveLength(1);
    expect(await api.runtime.history(id, { tenant: 'acme' })).toHaveLength(2);
  });
});

describe('fork with a child instance', () => {
  const title = 'a child open at the entry is started afresh for the fork; the original child is left alone; a child is not forked alone';
  test(title, async () => {
    const api = await createStandardTestApi();
    const started = await api.call('POST', '/v1/machines/parent-flow/instances?wait=settled', { body: {} });
    const id = started.body.id;
    const [child] = (await api.runtime.list({ tenant: 'acme', parentId: id })).items;
    expect(child).toMatchObject({ status: 'active', value: 'waiting' });
    const refused = await api.call('POST', `/v1/instances/${child!.id}/fork?seq=1`, {});
    expect([refused.status, refused.body.error.code]).toEqual([400, 'invalid_argument']);

    const fork = await api.call('POST', `/v1/instances/${id}/fork?seq=1`, {});
    expect(fork.status).toBe(201);
    await api.sim.settle();
    const [forkChild] = (await api.runtime.list({ tenant: 'acme', parentId: fork.body.id })).items;
    expect(forkChild).toMatchObject({ status: 'active', value: 'waiting' });
    expect(forkChild!.id).not.toBe(child!.id);
    await api.runtime.send(forkChild!.id, { type: 'go' }, { tenant: 'acme' });
    await api.sim.settle();
    expect(await api.runtime.get(fork.body.id, { tenant: 'acme' })).toMatchObject({
      status: 'done',
      context: { childOutput: { label: 'HELLO' }, progress: 1 },
    });
    expect(await api.runtime.get(child!.id, { tenant: 'acme' })).toMatchObject({ status: 'active', value: 'waiting' });
    expect(await api.runtime.get(id, { tenant: 'acme' })).toMatchObject({ status: 'active', value: 'running' });
  });
});
