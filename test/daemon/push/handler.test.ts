/**
 * PushHandler on a real SQLite file: a push becomes an alarm with its outbox message at once
 * and the meter is seen; hostile pushes end in a typed error, logged once per source and
 * code per minute, and nothing is stored.
 */
import fc from 'fast-check';
import { ErrorCode } from '../../../protocol/common/errors';
import { fromHex } from '../../../protocol/common/hex';
import { ALARM_PUSH_OBIS, LAST_GASP_PUSH_OBIS } from '../../../protocol/cosem/push';
import { decodeFrame } from '../../../protocol/hdlc/frame';
import { serverAddress } from '../../../protocol/hdlc/address';
import { encodeAlarmPush, pushCipherFor, pushUiFrame } from '../../../sim/meter/push';
import { simSystemTitle } from '../../../sim/types';
import { PUSH_LOG_PERIOD_MS } from '../../../daemon/push/handler';
import { pushRig, type PushRig } from './fixtures';

const plain = (ldn: string, register: number, pushSetup = ALARM_PUSH_OBIS): Uint8Array => encodeAlarmPush({ pushSetup, logicalDeviceName: ldn, alarmRegister: register, invokeId: 1 });
const cipher = pushCipherFor({ client: 1, auth: 'high' }, simSystemTitle(1));
const ciphered = (register: number, ic: number, pushSetup = ALARM_PUSH_OBIS): Uint8Array =>
  encodeAlarmPush({ pushSetup, logicalDeviceName: 'DCUSIM000001', alarmRegister: register, invokeId: 2 }, cipher, ic);
const TCP = { kind: 'tcp', peer: '127.0.0.1' } as const;

describe('PushHandler', () => {
  let rig: PushRig;
  beforeEach(() => {
    rig = pushRig();
  });
  afterEach(() => rig.close());

  const nothingStored = (): void => {
    expect(rig.alarms()).toEqual([]);
    expect(rig.outbox()).toEqual([]);
  };

  it('a plain push named by its logical device name becomes alarms at once; the meter is seen', () => {
    const out = rig.handler.handle(TCP, plain('DCUSIM000000', (1 << 20) | (1 << 2)));
    expect(out).toEqual({ ok: true, meter: 'SIM000000', raised: ['power-up', 'disconnected'] });
    expect(rig.alarms()).toEqual([
      { meter: 'SIM000000', code: 'power-up' },
      { meter: 'SIM000000', code: 'disconnected' },
    ]);
    expect(rig.outbox().filter((o) => o.stream === 'alarms').map((o) => (o.payload as { code: string }).code)).toEqual(['power-up', 'disconnected']);
    const state = rig.meters.get('SIM000000')?.state;
    expect(state).toMatchObject({ reachability: 'reachable', lastSeen: rig.clock.now(), stage: 'linked' });
    // the same bits pushed again: nothing new
    expect(rig.handler.handle(TCP, plain('DCUSIM000000', (1 << 20) | (1 << 2)))).toMatchObject({ ok: true, raised: [] });
    expect(rig.alarms()).toHaveLength(2);
  });

  it('a ciphered push is identified by system title, decrypted with the meter keys; a last gasp is a power-down alarm', () => {
    expect(rig.handler.handle(TCP, ciphered(0, 10, LAST_GASP_PUSH_OBIS))).toEqual({ ok: true, meter: 'SIM000001', raised: ['power-down'] });
    expect(rig.handler.handle({ kind: 'udp', peer: '10.0.0.9' }, ciphered(1 << 13, 11))).toEqual({ ok: true, meter: 'SIM000001', raised: ['firmware-verification-failed'] });
    expect(rig.alarms().map((a) => a.code)).toEqual(['power-down', 'firmware-verification-failed']);
  });

  it('an unsolicited UI frame on a serial line is identified by its HDLC address', () => {
    const frame = decodeFrame(pushUiFrame(plain('SOMETHING-ELSE', 1), serverAddress(1, 16), 1));
    expect(rig.handler.handleFrame('plc0', frame)).toEqual({ ok: true, meter: 'SIM000000', raised: ['clock-invalid'] });
    const stray = decodeFrame(pushUiFrame(plain('SOMETHING-ELSE', 1), serverAddress(1, 40), 1));
    expect(rig.handler.handleFrame('plc0', stray)).toMatchObject({ ok: false, error: { code: ErrorCode.MeterPushUnknown } });
    expect(rig.alarms()).toHaveLength(1);
  });

  it.each([
    ['garbage', fromHex('DEADBEEF'), ErrorCode.DecodeBadTag],
    ['an empty APDU', new Uint8Array(0), ErrorCode.DecodeTruncated],
    ['a truncated push', plain('DCUSIM000000', 4).subarray(0, 12), ErrorCode.DecodeBadLength],
    ['a GET request', fromHex('C001C1000800000100 00FF0200'.replace(/ /g, '')), ErrorCode.MeterPushContent],
    ['an unknown meter', plain('NOBODY', 4), ErrorCode.MeterPushUnknown],
    ['a plain push in the name of a ciphered meter', plain('DCUSIM000001', 4), ErrorCode.SecurityUnsupported],
    ['an unknown system title', encodeAlarmPush({ pushSetup: ALARM_PUSH_OBIS, logicalDeviceName: 'X', alarmRegister: 4, invokeId: 1 }, pushCipherFor({ client: 1, auth: 'high' }, simSystemTitle(9)), 5), ErrorCode.MeterPushUnknown],
    [
      'a wrong key',
      encodeAlarmPush({ pushSetup: ALARM_PUSH_OBIS, logicalDeviceName: 'X', alarmRegister: 4, invokeId: 1 }, pushCipherFor({ client: 1, auth: 'high', authKey: '00'.repeat(16) }, simSystemTitle(1)), 5),
      ErrorCode.SecurityBadTag,
    ],
    ['a truncated ciphered push', ciphered(4, 5).subarray(0, 20), ErrorCode.DecodeBadLength],
  ])('%s: typed error, nothing stored', (_what, apdu, code) => {
    const out = rig.handler.handle(TCP, apdu);
    expect(out.ok).toBe(false);
    if (!out.ok) expect({ code: out.error.code, message: out.error.message }).toEqual({ code, message: out.error.message });
    nothingStored();
    expect(rig.meters.get('SIM000000')?.state.lastSeen).toBeNull();
  });

  it('refuses a replayed invocation counter, also after a restart', () => {
    expect(rig.handler.handle(TCP, ciphered(4, 20)).ok).toBe(true);
    expect(rig.handler.handle(TCP, ciphered(4 | 1, 20))).toMatchObject({ ok: false, error: { code: ErrorCode.SecurityReplay } });
    expect(rig.handler.handle(TCP, ciphered(4 | 1, 19))).toMatchObject({ ok: false, error: { code: ErrorCode.SecurityReplay } });
    // a restarted daemon remembers (security_counters)
    expect(rig.restarted().handle(TCP, ciphered(4 | 1, 20))).toMatchObject({ ok: false, error: { code: ErrorCode.SecurityReplay } });
    expect(rig.restarted().handle(TCP, ciphered(4 | 1, 21))).toMatchObject({ ok: true, raised: ['clock-invalid'] });
    expect(rig.alarms()).toHaveLength(2);
  });

  it('logs a failing source once per code and minute, counting the rest', () => {
    for (let i = 0; i < 5; i++) rig.handler.handle(TCP, fromHex('00'));
    rig.handler.handle({ kind: 'udp', peer: '127.0.0.1' }, fromHex('00'));
    const warns = (): typeof rig.logs => rig.logs.filter((l) => l.level === 'warn');
    expect(warns()).toHaveLength(2);
    rig.clock.advance(PUSH_LOG_PERIOD_MS);
    rig.handler.handle(TCP, fromHex('00'));
    expect(warns()).toHaveLength(3);
    expect(warns()[2]?.obj).toMatchObject({ source: 'tcp 127.0.0.1', suppressed: 4 });
    expect(rig.handler.stats).toEqual({ accepted: 0, rejected: 7 });
  });
});

describe('PushHandler on random bytes', () => {
  it('never throws, never stores', () => {
    const rig = pushRig();
    try {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 200 }), fc.constantFrom(0x0f, 0xc2, 0xdb, 0x00), (bytes, tag) => {
          const apdu = Uint8Array.of(tag, ...bytes);
          const out = rig.handler.handle(TCP, apdu);
          return out.ok || out.error.name === 'DcuError';
        }),
        { numRuns: 300 },
      );
      expect(rig.alarms()).toEqual([]);
    } finally {
      rig.close();
    }
  });
});
