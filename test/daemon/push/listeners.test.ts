/**
 * Simulated meters push over real loopback TCP and UDP to the daemon's listeners: each push
 * is an alarm row and an outbox row; garbage is refused, the connection closed, nothing stored.
 */
import { createConnection, type Socket } from 'node:net';
import { createSocket } from 'node:dgram';
import { startPushListeners, PUSH_IDLE_MS, type PushListeners } from '../../../daemon/push/listeners';
import { FakeClock } from '../../../protocol/common/clock';
import { DEFAULT_CREDENTIALS } from '../../../sim/config';
import { createSimMeter } from '../../../sim/meter';
import { SimPushSender } from '../../../sim/push';
import type { SimMeterSpec } from '../../../sim/types';
import { until } from '../../helpers/until';
import { pushRig, type PushRig } from './fixtures';

const spec = (index: number): SimMeterSpec => ({ index, serial: `SIM00000${index}`, physicalAddress: 16 + index, logicalDevice: 1, credentials: DEFAULT_CREDENTIALS, rejectAssociations: false, seed: 1 });

describe('push listeners (loopback TCP and UDP)', () => {
  let rig: PushRig;
  let listeners: PushListeners;
  beforeEach(async () => {
    rig = pushRig();
    listeners = await startPushListeners({ tcp: '127.0.0.1:0', udp: '127.0.0.1:0' }, rig.handler, rig.clock);
  });
  afterEach(async () => {
    await listeners.close();
    rig.close();
  });

  const meterPushing = (index: number, to: string, client: number) => {
    const s = spec(index);
    const meter = createSimMeter(s, { clock: new FakeClock(rig.clock.now()) });
    const sender = new SimPushSender({ settings: { to, client, lastGasp: true }, credentials: DEFAULT_CREDENTIALS, clock: rig.clock, onIp: () => true });
    sender.attach(s, meter);
    return { meter, sender };
  };

  it('a ciphered push over TCP and a plain one over UDP become alarms with their outbox rows', async () => {
    const hls = meterPushing(1, `tcp://127.0.0.1:${listeners.tcpPort}`, 1);
    hls.meter.core.remote('disconnect');
    await hls.sender.idle();
    await until(() => rig.alarms().length === 1, 'the TCP push stored');
    const plain = meterPushing(0, `udp://127.0.0.1:${listeners.udpPort}`, 16);
    plain.meter.powerCut();
    await plain.sender.idle();
    await until(() => rig.alarms().length === 3, 'the UDP pushes stored');
    expect(rig.alarms()).toEqual([
      { meter: 'SIM000001', code: 'disconnected' },
      { meter: 'SIM000000', code: 'power-down' },
      { meter: 'SIM000000', code: 'power-up' },
    ]);
    const alarmMessages = rig.outbox().filter((o) => o.stream === 'alarms');
    expect(alarmMessages.map((o) => (o.payload as { meter: string; code: string }).code)).toEqual(['disconnected', 'power-down', 'power-up']);
    expect(hls.sender.stats.failed + plain.sender.stats.failed).toBe(0);
    expect(rig.meters.get('SIM000001')?.state.reachability).toBe('reachable');
  });

  it('garbage over TCP closes the connection; garbage over UDP is dropped; nothing stored', async () => {
    const socket: Socket = createConnection(listeners.tcpPort ?? 0, '127.0.0.1');
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.on('error', () => undefined);
    socket.write(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
    await closed;
    const udp = createSocket('udp4');
    await new Promise<void>((resolve) => udp.send(Buffer.from([0, 1, 0, 1, 0, 1, 0, 9, 1]), listeners.udpPort ?? 0, '127.0.0.1', () => resolve()));
    await until(() => rig.handler.stats.rejected >= 2, 'both refused');
    udp.close();
    expect(rig.alarms()).toEqual([]);
    expect(rig.outbox()).toEqual([]);
  });

  it('a TCP connection that sends nothing is closed after PUSH_IDLE_MS (fake clock)', async () => {
    const socket: Socket = createConnection(listeners.tcpPort ?? 0, '127.0.0.1');
    socket.on('error', () => undefined);
    let isClosed = false;
    socket.on('close', () => (isClosed = true));
    await new Promise<void>((resolve) => socket.on('connect', () => resolve()));
    await until(() => rig.clock.pending > 0, 'the idle timer armed');
    rig.clock.advance(PUSH_IDLE_MS);
    await until(() => isClosed, 'the idle connection closed');
  });
});
