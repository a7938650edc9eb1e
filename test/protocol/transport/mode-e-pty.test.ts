/**
 * Mode E end to end over a real socat pty pair: openModeE on one end, serveModeE (the
 * simulator's meter side) on the other. A pty ignores baud rates and parity (Linux forces
 * CS8), but both sides must issue their line-setting changes in order; the 7E1 phase carries
 * plain 7-bit ASCII and the switch to 8N1 reopens both ports.
 *
 * On a loaded machine a pty's bytes and a port's reopening may take seconds: both sides wait
 * for the other's bytes with generous limits (a limit that is met costs nothing), never with
 * the few hundred milliseconds a real optical head gets.
 */
import { ErrorCode } from '../../../protocol/common/errors';
import { fromHex, toHex } from '../../../protocol/common/hex';
import { openModeE, serveModeE } from '../../../protocol/transport/mode-e-driver';
import { formatSerialSettings, SerialTransport } from '../../../protocol/transport/serial';
import type { SerialSettings } from '../../../protocol/transport/types';
import { createPtyPair, type PtyPair } from '../../helpers/socat';
import { until } from '../../helpers/until';

/** Outer limit for what the other side sends (identification, ACK, the confirmation at the new baud). */
const WAIT_MS = 30_000;

/** Records every settings change of a SerialTransport. */
function recordUpdates(t: SerialTransport): string[] {
  const log: string[] = [];
  const original = t.update.bind(t);
  t.update = async (s: Partial<SerialSettings>): Promise<void> => {
    await original(s);
    log.push(formatSerialSettings(t.settings));
  };
  return log;
}

describe('mode E over a socat pty pair', () => {
  let pair: PtyPair;
  let hhu: SerialTransport;
  let meter: SerialTransport;

  beforeEach(async () => {
    pair = await createPtyPair();
    hhu = new SerialTransport({ path: pair.a, baudRate: 9600 });
    meter = new SerialTransport({ path: pair.b, baudRate: 9600 });
    await hhu.open();
    await meter.open();
  }, 2 * WAIT_MS);

  afterEach(async () => {
    await hhu.close();
    await meter.close();
    await pair.close();
  });

  it('both sides switch from 300 7E1 to 9600 8N1 and then exchange binary bytes', async () => {
    const hhuLog = recordUpdates(hhu);
    const meterLog = recordUpdates(meter);
    const served = serveModeE(meter, { manufacturer: 'DCU', identification: 'SIM42', baudRate: 9600, reactionMs: 50, ackTimeoutMs: WAIT_MS });
    const opened = await openModeE(hhu, { ackDelayMs: 50, switchDelayMs: 10, identificationTimeoutMs: WAIT_MS, confirmWindowMs: WAIT_MS });
    const agreed = await served;

    expect(opened.identification).toMatchObject({ manufacturer: 'DCU', baudLetter: '5', enhanced: '2', identification: 'SIM42' });
    expect(opened.baudRate).toBe(9600);
    expect(opened.confirmed).toBe(true);
    expect(agreed.baudRate).toBe(9600);
    expect(hhuLog).toEqual(['300 7E1', '9600 8N1']);
    expect(meterLog).toEqual(['300 7E1', '9600 8N1']);
    expect(hhu.settings).toEqual({ baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 });

    // Now 8N1 both ways: bytes with bit 7 set pass unchanged (an SNRM frame).
    let got = '';
    meter.onData((c) => (got += toHex(c)));
    await hhu.write(fromHex('7EA00A0002FEFF0393'));
    await until(() => got.length >= '7EA00A0002FEFF0393'.length, 'the SNRM frame at 8N1', WAIT_MS);
    expect(got).toBe('7EA00A0002FEFF0393');
  }, 4 * WAIT_MS);

  it('fails with ModeEFailed when nothing answers', async () => {
    const err = await openModeE(hhu, { identificationTimeoutMs: 300 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCode.ModeEFailed });
    expect((err as Error).message).toContain('nothing received');
  });
});
