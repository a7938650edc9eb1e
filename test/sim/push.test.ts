import { decodeApdu } from '../../protocol/apdu';
import { FakeClock } from '../../protocol/common/clock';
import { fromHex, toHex } from '../../protocol/common/hex';
import { readPushContent, ALARM_PUSH_OBIS, LAST_GASP_PUSH_OBIS } from '../../protocol/cosem/push';
import { decodeFrame } from '../../protocol/hdlc/frame';
import { serverAddress } from '../../protocol/hdlc/address';
import { decipherApdu } from '../../protocol/security/ciphered-apdu';
import { DEFAULT_CREDENTIALS, parseFleetConfig } from '../../sim/config';
import { createSimMeter } from '../../sim/meter';
import { AlarmBit } from '../../sim/meter/events';
import { encodeAlarmPush, pushCipherFor, pushUiFrame } from '../../sim/meter/push';
import { parsePushDestination, SimPushSender } from '../../sim/push';
import { buildProgram, mergeFlags, type SimFlags } from '../../sim/cli/dcu-sim';
import { loneMeterSpec, SIM_KEYS, simSystemTitle } from '../../sim/types';

const PUSH = { pushSetup: ALARM_PUSH_OBIS, logicalDeviceName: 'DCUSIM000000', alarmRegister: 4, invokeId: 1 };

describe('simulated meter pushes', () => {
  it('encodes a plain alarm push as a Data-Notification (0F) without date-time', () => {
    const apdu = encodeAlarmPush(PUSH);
    expect(toHex(apdu.subarray(0, 6)).toUpperCase()).toBe('0F0000000100');
    const a = decodeApdu(apdu);
    if (a.type !== 'data-notification') throw new Error(a.type);
    expect(readPushContent(a.body)).toEqual({ pushSetup: [0, 4, 25, 9, 0, 255], logicalDeviceName: 'DCUSIM000000', alarmRegister: 4 });
  });

  it('ciphers with general-glo-ciphering under the meter system title when the push client uses HLS', () => {
    const title = simSystemTitle(0);
    const cipher = pushCipherFor({ client: 1, auth: 'high' }, title);
    expect(cipher?.policy).toBe('auth-enc');
    expect(pushCipherFor({ client: 16, auth: 'none' }, title)).toBeUndefined();
    const apdu = encodeAlarmPush(PUSH, cipher, 77);
    expect(apdu[0]).toBe(0xdb);
    expect(toHex(apdu.subarray(1, 10)).toUpperCase()).toBe('084443550000000000');
    const d = decipherApdu(apdu, { blockKey: fromHex(SIM_KEYS.blockKey), authKey: fromHex(SIM_KEYS.authKey) });
    expect(d.invocationCounter).toBe(77);
    expect(d.apdu).toEqual(encodeAlarmPush(PUSH));
  });

  it('puts the push on HDLC in a UI frame from the meter to the client, with the meter → client LLC', () => {
    const frame = decodeFrame(pushUiFrame(encodeAlarmPush(PUSH), serverAddress(1, 17), 1));
    expect(frame.control.kind).toBe('UI');
    expect(frame.src).toEqual({ logical: 1, physical: 17, size: 2 });
    expect(frame.dest).toEqual({ logical: 1, size: 1 });
    expect(toHex(frame.info.subarray(0, 4)).toUpperCase()).toBe('E6E7000F');
  });

  it('parses destinations', () => {
    expect(parsePushDestination('udp://127.0.0.1:4059')).toEqual({ kind: 'udp', host: '127.0.0.1', port: 4059 });
    expect(parsePushDestination('hes:4059')).toEqual({ kind: 'tcp', host: 'hes', port: 4059 });
    expect(parsePushDestination('[::1]:1')).toEqual({ kind: 'tcp', host: '::1', port: 1 });
    expect(parsePushDestination('x')).toBeUndefined();
    expect(parsePushDestination('h:70000')).toBeUndefined();
  });

  it('a meter pushes when an alarm bit becomes set (not again while it stays set) and, with lastGasp, on power down', async () => {
    const clock = new FakeClock(Date.UTC(2026, 10, 1));
    const meter = createSimMeter(loneMeterSpec(DEFAULT_CREDENTIALS), { clock });
    const sent: Uint8Array[] = [];
    const sender = new SimPushSender({
      settings: { client: 16, lastGasp: true },
      credentials: DEFAULT_CREDENTIALS,
      clock,
      busOf: () => (frame) => {
        sent.push(frame);
        return Promise.resolve();
      },
      onIp: () => false,
    });
    sender.attach(loneMeterSpec(DEFAULT_CREDENTIALS), meter);
    meter.core.remote('disconnect');
    meter.core.alarm |= AlarmBit.disconnected; // already set: no second push
    meter.powerCut();
    await sender.idle();
    const contents = sent.map((f) => {
      const a = decodeApdu(decodeFrame(f).info.subarray(3));
      if (a.type !== 'data-notification') throw new Error(a.type);
      return readPushContent(a.body);
    });
    expect(contents.map((c) => [c.pushSetup, c.alarmRegister])).toEqual([
      [ALARM_PUSH_OBIS, AlarmBit.disconnected],
      [LAST_GASP_PUSH_OBIS, AlarmBit.disconnected],
      [ALARM_PUSH_OBIS, AlarmBit.disconnected | AlarmBit.powerUp],
    ]);
    expect(sender.stats).toEqual({ sent: 3, failed: 0 });
  });

  it('fleet config: push settings are checked', () => {
    const c = parseFleetConfig({ meters: 1, serialLines: 1, push: { to: 'udp://127.0.0.1:4059', lastGasp: true } });
    expect(c.push).toEqual({ to: 'udp://127.0.0.1:4059', client: 1, lastGasp: true });
    expect(() => parseFleetConfig({ meters: 1, serialLines: 1, push: { to: 'nowhere' } })).toThrow(/push\.to/);
    expect(() => parseFleetConfig({ meters: 1, serialLines: 1, push: { client: 99 } })).toThrow(/push\.client/);
    expect(parseFleetConfig({ meters: 1, serialLines: 1 }).push).toBeUndefined();
  });

  it('dcu-sim --push [dest] --last-gasp enable pushes on top of the config file', () => {
    const flags = (argv: string[]): SimFlags => buildProgram().exitOverride().parse(argv, { from: 'user' }).opts<SimFlags>();
    const withDest = parseFleetConfig(mergeFlags({ meters: 2, tcpBasePort: 5000 }, flags(['--push', 'udp://127.0.0.1:4059', '--last-gasp'])));
    expect(withDest.push).toEqual({ to: 'udp://127.0.0.1:4059', client: 1, lastGasp: true });
    const busOnly = parseFleetConfig(mergeFlags({ meters: 2, serialLines: 1, push: { client: 16 } }, flags(['--push'])));
    expect(busOnly.push).toEqual({ client: 16, lastGasp: false });
  });
});
