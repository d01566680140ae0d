import { describe, expect, it } from 'vitest';
import { createLab } from './lab.ts';

let n = 0;
const o = () => ({ idempotencyKey: `ipam-${++n}` });

describe('IPAM (NetBox shape)', () => {
  it('allocates the lowest free address as a NetBox ip-address object', async () => {
    const lab = createLab();
    const ip = await lab.clients.ipam.allocateAddress({ prefixId: 1, description: 'sub_000001' }, o());
    expect(ip).toEqual({ id: 1, address: '10.0.0.1/24', status: 'active', description: 'sub_000001' });
  });

  it('never hands out an allocated address twice, and exhaustion is not retryable', async () => {
    const lab = createLab({ prefixes: [{ id: 7, prefix: '192.168.5.0/29' }] });
    const allocated = [];
    for (let i = 0; i < 6; i++) allocated.push(await lab.clients.ipam.allocateAddress({ prefixId: 7, description: `#${i}` }, o()));
    expect(allocated.map((ip) => ip.address)).toEqual([
      '192.168.5.1/29',
      '192.168.5.2/29',
      '192.168.5.3/29',
      '192.168.5.4/29',
      '192.168.5.5/29',
      '192.168.5.6/29',
    ]);
    await expect(lab.clients.ipam.allocateAddress({ prefixId: 7, description: 'one too many' }, o())).rejects.toMatchObject({
      code: 'prefix_exhausted',
      retryable: false,
      status: 409,
    });
    expect(lab.systems.ipam.records()).toHaveLength(6);
  });

  it('release deletes the object and frees the address; ids are not reused', async () => {
    const lab = createLab({ prefixes: [{ id: 1, prefix: '10.9.0.0/30' }] });
    const a = await lab.clients.ipam.allocateAddress({ prefixId: 1, description: 'a' }, o());
    const b = await lab.clients.ipam.allocateAddress({ prefixId: 1, description: 'b' }, o());
    await lab.clients.ipam.releaseAddress(a.id, o());
    expect(lab.systems.ipam.records().map((ip) => ip.id)).toEqual([b.id]);
    const c = await lab.clients.ipam.allocateAddress({ prefixId: 1, description: 'c' }, o());
    expect(c.address).toBe(a.address);
    expect(c.id).toBe(3);
    expect(lab.systems.ipam.availableAddresses(1)).toEqual([]);
  });

  it('releasing an address already released succeeds', async () => {
    const lab = createLab();
    const ip = await lab.clients.ipam.allocateAddress({ prefixId: 1, description: 'a' }, o());
    await lab.clients.ipam.releaseAddress(ip.id, o());
    await expect(lab.clients.ipam.releaseAddress(ip.id, o())).resolves.toBeUndefined();
    await expect(lab.clients.ipam.releaseAddress(999, o())).resolves.toBeUndefined();
  });

  it('many concurrent allocations get distinct addresses', async () => {
    const lab = createLab();
    const ips = await Promise.all(
      Array.from({ length: 100 }, (_, i) => lab.clients.ipam.allocateAddress({ prefixId: 2, description: `#${i}` }, o())),
    );
    expect(new Set(ips.map((ip) => ip.address)).size).toBe(100);
    expect(new Set(ips.map((ip) => ip.id)).size).toBe(100);
  });

  it('an unknown prefix is a non-retryable 404; /31 and /32 use every address', async () => {
    const lab = createLab({
      prefixes: [
        { id: 1, prefix: '10.0.0.0/31' },
        { id: 2, prefix: '10.0.0.9/32' },
      ],
    });
    await expect(lab.clients.ipam.allocateAddress({ prefixId: 3, description: '' }, o())).rejects.toMatchObject({
      code: 'not_found',
      retryable: false,
    });
    expect(lab.systems.ipam.availableAddresses(1)).toEqual(['10.0.0.0/31', '10.0.0.1/31']);
    expect(lab.systems.ipam.availableAddresses(2)).toEqual(['10.0.0.9/32']);
  });
});
