/**
 * End to end: a technician's optical probe. `dcu probe --mode-e` signs on at 300 baud 7E1
 * (IEC 62056-21), the meter proposes 9600, both switch, and HDLC starts — over a real
 * socat pseudo-terminal pair, and over a pty bridged to a TCP meter that accepts only plain
 * 7-bit ASCII (what a software meter behind a terminal server or USB-to-IP bridge sees).
 */
import { systemClock } from '../../protocol/common/clock';
import { serveModeE } from '../../protocol/transport/mode-e-driver';
import { SerialTransport } from '../../protocol/transport/serial';
import { runCli } from '../helpers/cli';
import { createMiniMeterServer, MINI_ENERGY } from '../helpers/mini-meter';
import { listenStrictModeEMeter } from '../helpers/mode-e-tcp-meter';
import { serveMeter } from '../helpers/serve-meter';
import { createPtyPair, createPtyTcpBridge } from '../helpers/socat';

it('dcu probe --mode-e opens an optical-probe session and reads a register', async () => {
  const pty = await createPtyPair();
  const meterPort = new SerialTransport({ path: pty.b, baudRate: 300, dataBits: 7, parity: 'even', stopBits: 1 });
  await meterPort.open();
  try {
    const served = serveModeE(meterPort, { baudRate: 9600, manufacturer: 'DCU', identification: 'OPTO' }).then((s) => {
      const { server } = createMiniMeterServer(systemClock);
      serveMeter(meterPort, server, { framing: 'hdlc' });
      return s;
    });
    const r = await runCli('dcu', ['probe', '--serial', pty.a, '--mode-e', '--json', 'get', '3:1.0.1.8.0.255:2']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ value: { uint32: MINI_ENERGY } });
    expect((await served).baudRate).toBe(9600);
  } finally {
    await meterPort.close();
    await pty.close();
  }
});

it('dcu probe --mode-e reads the clock of a 7-bit-only meter behind socat pty ↔ tcp', async () => {
  const meter = await listenStrictModeEMeter({ responder: { manufacturer: 'EMU', identification: 'STRICT7', baudRate: 9600 } });
  const bridge = await createPtyTcpBridge(meter);
  try {
    const r = await runCli('dcu', ['probe', '--serial', bridge.path, '--mode-e', '--json', 'clock']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ meterTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) as unknown, clockStatus: 0 });
    expect(meter.refused).toEqual([]);
    expect(meter.signOnChunks.join('')).toBe('2F3F210D0A' + '063235320D0A'); // "/?!" CR LF, ACK '2' '5' '2' CR LF
    expect((await meter.served).baudRate).toBe(9600);
  } finally {
    await bridge.close();
    await meter.close();
  }
});
