import { describe, expect, test } from 'vitest';
import { createSimulation } from './testing/index.ts';
import { approval, threeSteps } from '../test/fixtures/machines.ts';

async function sim() {
  const s = await createSimulation({ machines: [{ machine: approval, options: { version: '1' } }] });
  const { id } = await s.runtime.start({ machine: 'approval', input: { amount: 1 } });
  return { ...s, id };
}

const invalid = { code: 'invalid_argument' };

describe('malformed input to every public function gets a clear error and changes nothing', () => {
  test('start', async () => {
    const { runtime } = await sim();
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const bad: unknown[] = [
      undefined,
      null,
      'approval',
      { machine: '' },
      { machine: 'approval', extra: 1 },
      { machine: 'approval', instanceId: 'has space' },
      { machine: 'approval', instanceId: 'a:b' },
      { machine: 'approval', tenant: '' },
      { machine: 'approval', idempotencyKey: 42 },
      { machine: 'approval', input: { when: new Date() } },
      { machine: 'approval', input: { n: Number.NaN } },
      { machine: 'approval', input: circular },
      { machine: 'approval', input: { f: () => 1 } },
      { machine: 'approval', caller: { roles: ['x'] } },
    ];
    for (const [i, options] of bad.entries())
      await expect(runtime.start(options as never), `bad start options #${i}`).rejects.toMatchObject(invalid);
    await expect(runtime.start({ machine: 'nope' })).rejects.toMatchObject({
      code: 'machine_not_found',
      message: expect.stringContaining('"nope"'),
    });
    await expect(runtime.start({ machine: 'approval@9' })).rejects.toMatchObject({ code: 'machine_version_not_found' });
    expect((await runtime.list()).items).toHaveLength(1);
  });

  test('send', async () => {
    const { runtime, id } = await sim();
    for (const event of [
      undefined,
      null,
      'legal.approve',
      {},
      { type: '' },
      { type: 5 },
      { type: 'xstate.done.actor.x' },
      { type: 'legal.approve', by: () => 1 },
    ]) {
      await expect(runtime.send(id, event as never), JSON.stringify(event) ?? String(event)).rejects.toMatchObject(invalid);
    }
    await expect(runtime.send('', { type: 'ping' })).rejects.toMatchObject(invalid);
    await expect(runtime.send('no-such-instance', { type: 'ping' })).rejects.toMatchObject({ code: 'instance_not_found' });
    await expect(runtime.send(id, { type: 'ping' }, { tenant: 'other' })).rejects.toMatchObject({ code: 'instance_not_found' });
    await expect(runtime.send(id, { type: 'ping' }, { tenant: 'bad tenant' })).rejects.toMatchObject(invalid);
    expect((await runtime.get(id)).version).toBe(1);
  });

  test('get, list, history, describe', async () => {
    const { runtime, id } = await sim();
    await expect(runtime.get(42 as never)).rejects.toMatchObject(invalid);
    await expect(runtime.get(id, { tenant: 'other' })).rejects.toMatchObject({ code: 'instance_not_found' });
    await expect(runtime.list({ limit: 0 })).rejects.toMatchObject(invalid);
    await expect(runtime.list({ limit: 10_000 })).rejects.toMatchObject(invalid);
    await expect(runtime.list({ cursor: 'garbage' })).rejects.toMatchObject(invalid);
    await expect(runtime.history('missing')).rejects.toMatchObject({ code: 'instance_not_found' });
    await expect(runtime.describe(id, { tenant: 'other' })).rejects.toMatchObject({ code: 'instance_not_found' });
  });

  test('register and registerSteps', async () => {
    const { runtime } = await sim();
    expect(() => runtime.register({} as never, { version: '1' })).toThrow(expect.objectContaining(invalid));
    expect(() => runtime.register(threeSteps, { version: '' })).toThrow(expect.objectContaining(invalid));
    expect(() => runtime.register(threeSteps, undefined as never)).toThrow(expect.objectContaining(invalid));
    expect(() => runtime.register(threeSteps, { version: 'has space' })).toThrow(expect.objectContaining(invalid));
    const other = threeSteps.provide({});
    expect(() => runtime.register(threeSteps, { version: '1' })).toThrow(expect.objectContaining({ code: 'step_not_registered' }));
    const stub = async () => ({});
    runtime.register(threeSteps, { version: '1', steps: { stepA: stub, stepB: stub, stepC: stub } });
    expect(() => runtime.register(other, { version: '1' })).toThrow(expect.objectContaining({ code: 'machine_already_registered' }));
    expect(() => runtime.registerSteps({ x: 42 } as never)).toThrow(expect.objectContaining(invalid));
    expect(() => runtime.registerSteps(null as never)).toThrow(expect.objectContaining(invalid));
  });

  test('a closed runtime refuses new work with runtime_closed', async () => {
    const { runtime, id } = await sim();
    await runtime.close();
    await expect(runtime.send(id, { type: 'ping' })).rejects.toMatchObject({ code: 'runtime_closed' });
    await expect(runtime.start({ machine: 'approval', input: { amount: 1 } })).rejects.toMatchObject({ code: 'runtime_closed' });
  });
});
