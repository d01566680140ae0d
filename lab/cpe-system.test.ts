import { describe, expect, it } from 'vitest';
import { createLab } from './lab.ts';

let n = 0;
const o = () => ({ idempotencyKey: `cpe-${++n}` });

describe('CPE (GenieACS tasks) and ONU activation', () => {
  it('configure runs a setParameterValues task in the GenieACS shape; reset forgets the config', async () => {
    const lab = createLab({ now: () => new Date('2025-10-15T12:00:00Z') });
    const { taskId } = await lab.clients.cpe.configure(
      {
        deviceId: '202BC1-BM632w-000001',
        parameterValues: [['InternetGatewayDevice.LANDevice.1.WLANConfiguration.1.SSID', 'ada-wifi', 'xsd:string']],
      },
      o(),
    );
    expect(lab.systems.cpe.task(taskId)).toEqual({
      _id: '000000000000000000000001',
      name: 'setParameterValues',
      device: '202BC1-BM632w-000001',
      parameterValues: [['InternetGatewayDevice.LANDevice.1.WLANConfiguration.1.SSID', 'ada-wifi', 'xsd:string']],
      timestamp: '2025-10-15T12:00:00.000Z',
    });
    expect(await lab.liveRecords()).toEqual([{ system: 'cpe', kind: 'cpe-config', id: '202BC1-BM632w-000001' }]);
    const reset = await lab.clients.cpe.reset('202BC1-BM632w-000001', o());
    expect(lab.systems.cpe.task(reset.taskId)).toMatchObject({ name: 'factoryReset', device: '202BC1-BM632w-000001' });
    expect(await lab.liveRecordCount()).toBe(0);
    await expect(lab.clients.cpe.reset('202BC1-BM632w-000001', o())).resolves.toMatchObject({ taskId: expect.any(String) });
  });

  it('merges parameters of consecutive tasks', async () => {
    const lab = createLab();
    await lab.clients.cpe.configure(
      {
        deviceId: 'd',
        parameterValues: [
          ['a', 1],
          ['b', true],
        ],
      },
      o(),
    );
    await lab.clients.cpe.configure({ deviceId: 'd', parameterValues: [['a', 2]] }, o());
    expect(lab.systems.cpe.records()[0]?.parameters).toEqual({ a: 2, b: true });
  });

  it('rejects an empty parameter list', async () => {
    const lab = createLab();
    await expect(lab.clients.cpe.configure({ deviceId: 'd', parameterValues: [] }, o())).rejects.toMatchObject({ code: 'invalid_request' });
  });

  it('an ONU serial is active once; the same activation returns it, another subscriber conflicts', async () => {
    const lab = createLab();
    const req = { serialNumber: 'ALCLf0e1d2c3', oltPort: 'olt1/1/1', subscriberId: 'sub_1' };
    const { onuId } = await lab.clients.onu.activate(req, o());
    expect(await lab.clients.onu.activate(req, o())).toEqual({ onuId });
    await expect(lab.clients.onu.activate({ ...req, subscriberId: 'sub_2' }, o())).rejects.toMatchObject({
      code: 'conflict',
      retryable: false,
    });
    await lab.clients.onu.deactivate(onuId, o());
    await lab.clients.onu.deactivate(onuId, o());
    expect(lab.systems.onu.records()).toEqual([]);
    // Same serial and port: the OLT gives the ONU its old id back, now for the other subscriber.
    await expect(lab.clients.onu.activate({ ...req, subscriberId: 'sub_2' }, o())).resolves.toMatchObject({ onuId });
  });

  it('re-activating a serial on the port it had keeps its ONU id (undoing a deactivation restores it)', async () => {
    const lab = createLab();
    const req = { serialNumber: 'ALCLf0e1d2c3', oltPort: 'olt1/1/1', subscriberId: 'sub_1' };
    const { onuId } = await lab.clients.onu.activate(req, o());
    await lab.clients.onu.deactivate(onuId, o());
    expect(await lab.clients.onu.activate(req, o())).toEqual({ onuId });
    await lab.clients.onu.deactivate(onuId, o());
    expect((await lab.clients.onu.activate({ ...req, oltPort: 'olt1/1/2' }, o())).onuId).not.toBe(onuId);
  });

  it('rejects a malformed ONU serial', async () => {
    const lab = createLab();
    await expect(lab.clients.onu.activate({ serialNumber: '123', oltPort: 'p', subscriberId: 's' }, o())).rejects.toMatchObject({
      status: 400,
    });
  });
});
