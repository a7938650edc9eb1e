/**
 * Mode E through a pty bridged to TCP (`socat pty,raw,echo=0 tcp:…`), as a terminal server or
 * a USB-to-IP adapter presents a remote optical probe: nothing on the way adds a parity bit, so
 * the sign-on must leave the port as plain 7-bit ASCII — the port at 7E1, not 8N1 bytes with a
 * software parity bit. The meter behind the bridge refuses any byte with bit 7 set.
 */
import { ErrorCode } from '../../../protocol/common/errors';
import { openModeE } from '../../../protocol/transport/mode-e-driver';
import { SerialTransport } from '../../../protocol/transport/serial';
import { listenStrictModeEMeter, type StrictModeEMeter } from '../../helpers/mode-e-tcp-meter';
import { createPtyTcpBridge, type PtyTcpBridge } from '../../helpers/socat';

describe('mode E through a socat pty ↔ TCP bridge to a 7-bit-only meter', () => {
  let meter: StrictModeEMeter;
  let bridge: PtyTcpBridge;
  let probe: SerialTransport | undefined;

  beforeEach(async () => {
    meter = await listenStrictModeEMeter({ responder: { manufacturer: 'EMU', identification: 'STRICT7', baudRate: 9600 } });
    bridge = await createPtyTcpBridge(meter);
  });

  afterEach(async () => {
    await probe?.close();
    probe = undefined;
    await bridge.close();
    await meter.close();
  });

  it('signs on with plain 7-bit ASCII at 7E1 and switches to 9600 8N1', async () => {
    probe = new SerialTransport({ path: bridge.path, baudRate: 300, dataBits: 7, parity: 'even', stopBits: 1 });
    await probe.open();
    const opened = await openModeE(probe);
    expect(opened.identification).toMatchObject({ manufacturer: 'EMU', baudLetter: '5', identification: 'STRICT7' });
    expect(opened.baudRate).toBe(9600);
    expect(probe.settings).toEqual({ baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 });
    expect(await meter.served).toMatchObject({ baudRate: 9600 });
    expect(meter.refused).toEqual([]);
    expect(meter.signOnChunks.join('')).toBe('2F3F210D0A' + '063235320D0A');
  });

  it('gets no identification when the sign-on is sent as 8N1 bytes with a software parity bit', async () => {
    probe = new SerialTransport({ path: bridge.path, baudRate: 300, dataBits: 7, parity: 'even', stopBits: 1, softwareParity: true });
    await probe.open();
    const err = await openModeE(probe, { identificationTimeoutMs: 1500 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCode.ModeEFailed });
    expect((err as Error).message).toContain('nothing received');
    expect(meter.refused.join('')).toBe('AF3F218D0A');
  });
});
