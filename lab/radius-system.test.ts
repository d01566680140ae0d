import { describe, expect, it } from 'vitest';
import { createLab } from './lab.ts';

let n = 0;
const o = () => ({ idempotencyKey: `radius-${++n}` });

describe('RADIUS (FreeRADIUS SQL rows, in memory)', () => {
  it('writes the password to radcheck, framed IP and rate limit to radreply', async () => {
    const lab = createLab();
    await lab.clients.radius.createAccount({ username: 'ada@isp', password: 's3cret', framedIp: '10.0.0.5/24', rateLimit: '10M/50M' }, o());
    expect(await lab.systems.radius.records()).toEqual({
      radcheck: [{ id: 1, username: 'ada@isp', attribute: 'Cleartext-Password', op: ':=', value: 's3cret' }],
      radreply: [
        { id: 1, username: 'ada@isp', attribute: 'Framed-IP-Address', op: '=', value: '10.0.0.5' },
        { id: 2, username: 'ada@isp', attribute: 'Mikrotik-Rate-Limit', op: '=', value: '10M/50M' },
      ],
    });
  });

  it('suspends with Auth-Type := Reject and resumes by removing it', async () => {
    const lab = createLab();
    await lab.clients.radius.createAccount({ username: 'ada', password: 'pw' }, o());
    await lab.clients.radius.setSuspended('ada', true, o());
    await lab.clients.radius.setSuspended('ada', true, o());
    const suspended = await lab.systems.radius.records();
    expect(suspended.radcheck.filter((r) => r.attribute === 'Auth-Type')).toEqual([
      { id: 2, username: 'ada', attribute: 'Auth-Type', op: ':=', value: 'Reject' },
    ]);
    await lab.clients.radius.setSuspended('ada', false, o());
    expect((await lab.systems.radius.records()).radcheck.map((r) => r.attribute)).toEqual(['Cleartext-Password']);
  });

  it('suspending an unknown account is a non-retryable 404', async () => {
    const lab = createLab();
    await expect(lab.clients.radius.setSuspended('ghost', true, o())).rejects.toMatchObject({ status: 404, retryable: false });
  });

  it('creating the same account again (another key) returns it; different attributes conflict', async () => {
    const lab = createLab();
    await lab.clients.radius.createAccount({ username: 'ada', password: 'pw', framedIp: '10.0.0.5' }, o());
    await expect(lab.clients.radius.createAccount({ username: 'ada', password: 'pw', framedIp: '10.0.0.5' }, o())).resolves.toEqual({
      username: 'ada',
    });
    await expect(lab.clients.radius.createAccount({ username: 'ada', password: 'other' }, o())).rejects.toMatchObject({
      code: 'conflict',
      retryable: false,
    });
    expect((await lab.systems.radius.records()).radcheck).toHaveLength(1);
  });

  it('deletes every row of the account; deleting again succeeds', async () => {
    const lab = createLab();
    await lab.clients.radius.createAccount({ username: 'ada', password: 'pw', framedIp: '10.0.0.5', rateLimit: '1M/1M' }, o());
    await lab.clients.radius.createAccount({ username: 'bob', password: 'pw' }, o());
    await lab.clients.radius.setSuspended('ada', true, o());
    await lab.clients.radius.deleteAccount('ada', o());
    await lab.clients.radius.deleteAccount('ada', o());
    const rows = await lab.systems.radius.records();
    expect([...rows.radcheck, ...rows.radreply].map((r) => r.username)).toEqual(['bob']);
    expect(await lab.liveRecords()).toEqual([{ system: 'radius', kind: 'account', id: 'bob' }]);
  });

  it('rejects a framed IP that is not IPv4', async () => {
    const lab = createLab();
    await expect(lab.clients.radius.createAccount({ username: 'ada', password: 'pw', framedIp: 'fe80::1' }, o())).rejects.toMatchObject({
      code: 'invalid_request',
    });
  });
});
