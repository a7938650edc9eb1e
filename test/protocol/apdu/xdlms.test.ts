import {
  type Apdu,
  ActionResult,
  DataAccessResult,
  actionResultName,
  dataAccessResultName,
  decodeApdu,
  encodeApdu,
  invokeFromByte,
  invokeIdAndPriority,
} from '../../../protocol/apdu';
import { octets, structure, uint16, uint32 } from '../../../protocol/axdr/data';
import { ErrorCode } from '../../../protocol/common/errors';
import { fromHex, toHex } from '../../../protocol/common/hex';
import { expectDcuError } from '../../helpers/dcu-error';

const iid = invokeIdAndPriority(1); // C1
const CLOCK = fromHex('0000010000FF');
const PROFILE = fromHex('0100630100FF');

function roundTrip(hex: string, value: Apdu): void {
  expect(decodeApdu(fromHex(hex))).toEqual(value);
  expect(toHex(encodeApdu(value), ' ')).toBe(hex);
}

describe('invoke-id-and-priority', () => {
  it('splits the byte', () => {
    expect(invokeFromByte(0xc1)).toEqual({ invokeId: 1, confirmed: true, highPriority: true });
    expect(invokeFromByte(0x0f)).toEqual({ invokeId: 15, confirmed: false, highPriority: false });
  });
});

describe('GET', () => {
  it('normal with entry selective access', () => {
    roundTrip('C0 01 C1 00 07 01 00 63 01 00 FF 02 01 02 02 04 06 00 00 00 01 06 00 00 00 05 12 00 01 12 00 00', {
      type: 'get-request',
      kind: 'normal',
      invoke: iid,
      attribute: { classId: 7, instanceId: PROFILE, attributeId: 2 },
      access: { selector: 2, parameters: structure(uint32(1), uint32(5), uint16(1), uint16(0)) },
    });
  });

  it('next block and with-list', () => {
    roundTrip('C0 02 C1 00 00 00 01', { type: 'get-request', kind: 'next', invoke: iid, blockNumber: 1 });
    roundTrip('C0 03 C1 02 00 08 00 00 01 00 00 FF 02 00 00 03 01 00 01 08 00 FF 02 00', {
      type: 'get-request',
      kind: 'with-list',
      invoke: iid,
      attributes: [
        { attribute: { classId: 8, instanceId: CLOCK, attributeId: 2 } },
        { attribute: { classId: 3, instanceId: fromHex('0100010800FF'), attributeId: 2 } },
      ],
    });
  });

  it('responses: data, data-access-result, block error, with-list', () => {
    roundTrip('C4 01 C1 00 06 00 00 00 2A', { type: 'get-response', kind: 'normal', invoke: iid, result: { kind: 'data', data: uint32(42) } });
    roundTrip('C4 01 C1 01 04', { type: 'get-response', kind: 'normal', invoke: iid, result: { kind: 'error', error: DataAccessResult.objectUndefined } });
    roundTrip('C4 02 C1 01 00 00 00 02 01 0E', {
      type: 'get-response',
      kind: 'with-datablock',
      invoke: iid,
      lastBlock: true,
      blockNumber: 2,
      result: { kind: 'error', error: DataAccessResult.dataBlockUnavailable },
    });
    roundTrip('C4 03 C1 02 00 06 00 00 00 2A 01 03', {
      type: 'get-response',
      kind: 'with-list',
      invoke: iid,
      results: [
        { kind: 'data', data: uint32(42) },
        { kind: 'error', error: DataAccessResult.readWriteDenied },
      ],
    });
  });
});

describe('SET', () => {
  it('normal request and response', () => {
    roundTrip('C1 01 C1 00 08 00 00 01 00 00 FF 02 00 09 02 07 EA', {
      type: 'set-request',
      kind: 'normal',
      invoke: iid,
      attribute: { classId: 8, instanceId: CLOCK, attributeId: 2 },
      value: octets(fromHex('07EA')),
    });
    roundTrip('C5 01 C1 00', { type: 'set-response', kind: 'normal', invoke: iid, result: DataAccessResult.success });
  });

  it('block transfer', () => {
    roundTrip('C1 02 C1 00 12 00 00 2C 00 00 FF 02 00 00 00 00 00 01 03 01 02 03', {
      type: 'set-request',
      kind: 'with-first-datablock',
      invoke: iid,
      attribute: { classId: 18, instanceId: fromHex('00002C0000FF'), attributeId: 2 },
      block: { lastBlock: false, blockNumber: 1, raw: fromHex('010203') },
    });
    roundTrip('C1 03 C1 01 00 00 00 02 01 04', { type: 'set-request', kind: 'with-datablock', invoke: iid, block: { lastBlock: true, blockNumber: 2, raw: fromHex('04') } });
    roundTrip('C5 02 C1 00 00 00 01', { type: 'set-response', kind: 'datablock', invoke: iid, blockNumber: 1 });
    roundTrip('C5 03 C1 00 00 00 00 02', { type: 'set-response', kind: 'last-datablock', invoke: iid, result: 0, blockNumber: 2 });
    roundTrip('C5 05 C1 02 00 03', { type: 'set-response', kind: 'with-list', invoke: iid, results: [0, 3] });
  });
});

describe('ACTION', () => {
  it('normal request with parameters and responses with/without return data', () => {
    roundTrip('C3 01 C1 00 0F 00 00 28 00 00 FF 01 01 09 04 DE AD BE EF', {
      type: 'action-request',
      kind: 'normal',
      invoke: iid,
      method: { classId: 15, instanceId: fromHex('0000280000FF'), methodId: 1 },
      parameters: octets(fromHex('DEADBEEF')),
    });
    roundTrip('C3 01 C1 00 08 00 00 01 00 00 FF 06 00', {
      type: 'action-request',
      kind: 'normal',
      invoke: iid,
      method: { classId: 8, instanceId: CLOCK, methodId: 6 },
    });
    roundTrip('C7 01 C1 00 01 00 09 02 01 02', {
      type: 'action-response',
      kind: 'normal',
      invoke: iid,
      outcome: { result: ActionResult.success, returnParameters: { kind: 'data', data: octets(fromHex('0102')) } },
    });
    roundTrip('C7 01 C1 02 00', { type: 'action-response', kind: 'normal', invoke: iid, outcome: { result: ActionResult.temporaryFailure } });
  });

  it('pblocks', () => {
    roundTrip('C3 02 C1 00 00 00 01', { type: 'action-request', kind: 'next-pblock', invoke: iid, blockNumber: 1 });
    roundTrip('C7 02 C1 01 00 00 00 01 02 AA BB', { type: 'action-response', kind: 'with-pblock', invoke: iid, block: { lastBlock: true, blockNumber: 1, raw: fromHex('AABB') } });
    roundTrip('C7 04 C1 00 00 00 03', { type: 'action-response', kind: 'next-pblock', invoke: iid, blockNumber: 3 });
  });
});

describe('errors and notifications', () => {
  it('exception-response', () => {
    roundTrip('D8 01 02', { type: 'exception-response', stateError: 'service-not-allowed', serviceError: { kind: 'service-not-supported' } });
    roundTrip('D8 02 06 00 00 00 05', {
      type: 'exception-response',
      stateError: 'service-unknown',
      serviceError: { kind: 'invocation-counter-error', invocationCounter: 5 },
    });
  });

  it('confirmed-service-error', () => {
    roundTrip('0E 05 03 02', { type: 'confirmed-service-error', service: 'read', errorType: 'service', value: 2 });
  });

  it('data-notification with and without date-time', () => {
    roundTrip('0F 00 00 00 01 00 12 00 2A', {
      type: 'data-notification',
      invoke: { invokeId: 1, selfDescriptive: false, breakOnError: false, confirmed: false, highPriority: false },
      body: uint16(42),
    });
    roundTrip('0F C0 00 00 02 0C 07 EA 0B 17 01 0E 22 36 00 80 00 FF 11 05', {
      type: 'data-notification',
      invoke: { invokeId: 2, selfDescriptive: false, breakOnError: false, confirmed: true, highPriority: true },
      dateTime: { year: 2026, month: 11, day: 23, dayOfWeek: 1, hour: 14, minute: 34, second: 54, hundredths: 0, deviation: null, clockStatus: null },
      body: { type: 'uint8', value: 5 },
    });
  });

  it('event-notification and general-block-transfer', () => {
    roundTrip('C2 00 00 01 00 00 60 0B 00 FF 02 12 00 05', {
      type: 'event-notification',
      attribute: { classId: 1, instanceId: fromHex('0000600B00FF'), attributeId: 2 },
      value: uint16(5),
    });
    roundTrip('E0 81 00 01 00 00 03 C0 01 C1', {
      type: 'general-block-transfer',
      lastBlock: true,
      streaming: false,
      window: 1,
      blockNumber: 1,
      blockNumberAck: 0,
      data: fromHex('C001C1'),
    });
  });

  it('ciphered APDUs stay raw', () => {
    roundTrip('C8 05 30 00 00 00 01', { type: 'ciphered', tag: 0xc8, bytes: fromHex('C8053000000001') });
    roundTrip('DB 08 41 42 43 44 45 46 47 48 02 30 00', { type: 'ciphered', tag: 0xdb, bytes: fromHex('DB08414243444546474802 3000') });
  });

  it('names results for messages', () => {
    expect(dataAccessResultName(DataAccessResult.readWriteDenied)).toBe('read-write-denied');
    expect(dataAccessResultName(19)).toBe('data-block-number-invalid');
    expect(dataAccessResultName(5)).toBe('unknown (5)');
    expect(actionResultName(ActionResult.otherReason)).toBe('other-reason');
  });
});

describe('negative cases', () => {
  it.each<[string, string, number, number]>([
    ['empty', '', ErrorCode.DecodeTruncated, 0],
    ['unknown APDU tag', '99 00', ErrorCode.DecodeBadTag, 0],
    ['unknown GET choice', 'C0 07 C1', ErrorCode.DecodeBadTag, 1],
    ['bad Get-Data-Result choice', 'C4 01 C1 02 00', ErrorCode.DecodeBadTag, 3],
    ['unknown data-access-result', 'C5 01 C1 05', ErrorCode.DecodeBadValue, 3],
    ['unknown action-result', 'C7 01 C1 0A 00', ErrorCode.DecodeBadValue, 3],
    ['truncated descriptor', 'C0 01 C1 00 08 00 00 01', ErrorCode.DecodeTruncated, 5],
    ['raw-data longer than the APDU', 'C4 02 C1 00 00 00 00 01 00 82 01 DA 01', ErrorCode.DecodeBadLength, 9],
    ['trailing bytes', 'C5 01 C1 00 00', ErrorCode.DecodeTrailingBytes, 4],
    ['bad access-selection flag', 'C0 01 C1 00 08 00 00 01 00 00 FF 02 02', ErrorCode.DecodeBadValue, 12],
    ['bad Data inside', 'C4 01 C1 00 63', ErrorCode.DecodeBadTag, 4],
    ['bad exception state-error', 'D8 03 01', ErrorCode.DecodeBadValue, 1],
    ['bad exception service-error', 'D8 01 09', ErrorCode.DecodeBadTag, 2],
    ['bad notification date-time length', '0F 00 00 00 01 05 01 02 03 04 05 00', ErrorCode.DecodeBadValue, 5],
    ['bad confirmed service', '0E 00 01 01', ErrorCode.DecodeBadTag, 1],
    ['ciphered length overflow', 'C8 05 01', ErrorCode.DecodeBadLength, 1],
    ['general-glo truncated', 'DB 08 41 42 43', ErrorCode.DecodeBadLength, 1],
  ])('%s', (_name, hex, code, offset) => {
    expectDcuError(() => decodeApdu(fromHex(hex)), code, offset);
  });

  it('positions errors in the enclosing frame with baseOffset', () => {
    expectDcuError(() => decodeApdu(fromHex('C5 01 C1 05'), 3), ErrorCode.DecodeBadValue, 6);
  });

  it('refuses values that cannot be encoded', () => {
    const attr = { classId: 8, instanceId: CLOCK, attributeId: 2 };
    expectDcuError(() => encodeApdu({ type: 'get-request', kind: 'normal', invoke: invokeIdAndPriority(16), attribute: attr }), ErrorCode.EncodeInvalid);
    expectDcuError(
      () => encodeApdu({ type: 'get-request', kind: 'normal', invoke: iid, attribute: { ...attr, instanceId: fromHex('0000010000') } }),
      ErrorCode.EncodeInvalid,
    );
    expectDcuError(() => encodeApdu({ type: 'get-request', kind: 'normal', invoke: iid, attribute: { ...attr, attributeId: 128 } }), ErrorCode.EncodeInvalid);
    expectDcuError(
      () => encodeApdu({ type: 'general-block-transfer', lastBlock: true, streaming: false, window: 64, blockNumber: 1, blockNumberAck: 0, data: new Uint8Array(0) }),
      ErrorCode.EncodeInvalid,
    );
    expectDcuError(() => encodeApdu({ type: 'ciphered', tag: 0xc8, bytes: fromHex('C0') }), ErrorCode.EncodeInvalid);
  });
});
