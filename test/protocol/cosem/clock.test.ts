import { decodeData } from '../../../protocol/axdr/codec';
import type { Data } from '../../../protocol/axdr/data';
import { bool, enumValue, int16, int8, uint8 } from '../../../protocol/axdr/data';
import { dateTimeToEpoch, epochToDateTime } from '../../../protocol/axdr/datetime';
import { ErrorCode } from '../../../protocol/common/errors';
import { toHex } from '../../../protocol/common/hex';
import { checkAttributeValue, checkMethodParameter } from '../../../protocol/cosem/classes';
import type { ClockState } from '../../../protocol/cosem/clock';
import {
  ClockAttr,
  clockStatusFlags,
  decodeClockAttributes,
  decodeShiftTime,
  encodeClockAttribute,
  presetAdjustingTimeParameter,
  shiftTimeParameter,
} from '../../../protocol/cosem/clock';
import { codeOf, getResponseData } from './trace';

describe('clock attributes', () => {
  it('decodes the clock time read in the trace (2026-11-23 14:34:54, deviation 0)', () => {
    const bytes = getResponseData('ln-hdlc-none-clock.log')[1];
    if (bytes === undefined) throw new Error('no clock read in the trace');
    expect(toHex(bytes)).toBe('090C07EA0B17010E223600000000');
    const { time } = decodeClockAttributes(new Map([[ClockAttr.time, decodeData(bytes)]]));
    expect(time && dateTimeToEpoch(time)).toBe(Date.UTC(2026, 10, 23, 14, 34, 54));
    expect(time?.dayOfWeek).toBe(1);
  });

  it('encodes every attribute of a state, and decodes it back; values satisfy the class table', () => {
    const state: ClockState = {
      time: epochToDateTime(Date.UTC(2026, 2, 1, 12, 0, 0), { deviation: -60 }),
      timeZone: -60,
      status: 0x80,
      dstBegin: { ...epochToDateTime(0), year: null, month: 3, day: 0xfe, dayOfWeek: 7, hour: 2, minute: 0, second: 0, hundredths: null, deviation: null, clockStatus: null },
      dstEnd: { ...epochToDateTime(0), year: null, month: 10, day: 0xfe, dayOfWeek: 7, hour: 3, minute: 0, second: 0, hundredths: null, deviation: null, clockStatus: null },
      dstDeviation: 60,
      dstEnabled: true,
      clockBase: 1,
    };
    const values = new Map<number, Data>();
    for (let i = 2; i <= 9; i++) {
      const d = encodeClockAttribute(state, i);
      expect([i, checkAttributeValue(8, i, d).ok]).toEqual([i, true]);
      values.set(i, d);
    }
    expect(decodeClockAttributes(values)).toEqual(state);
    expect(encodeClockAttribute({ ...state, timeZone: null }, 3)).toEqual(int16(-0x8000));
    expect(decodeClockAttributes(new Map([[3, int16(-0x8000)]])).timeZone).toBeNull();
    expect(codeOf(() => encodeClockAttribute(state, 1))).toBe(ErrorCode.Usage);
  });

  it('rejects wrong types naming the attribute', () => {
    expect(() => decodeClockAttributes(new Map([[ClockAttr.status, enumValue(1)]]))).toThrow('clock attribute 4: expected uint8, got enum');
    expect(codeOf(() => decodeClockAttributes(new Map([[ClockAttr.time, uint8(1)]])))).toBe(ErrorCode.DecodeBadValue);
    expect(codeOf(() => decodeClockAttributes(new Map([[ClockAttr.dstEnabled, int8(1)]])))).toBe(ErrorCode.DecodeBadValue);
    expect(decodeClockAttributes(new Map([[ClockAttr.dstEnabled, bool(false)]]))).toEqual({ dstEnabled: false });
  });

  it('reads status flags', () => {
    expect(clockStatusFlags(0x81)).toEqual({ invalid: true, doubtful: false, differentBase: false, invalidStatus: false, dst: true });
  });
});

describe('clock methods', () => {
  it('shift_time takes −900..900 s as long', () => {
    expect(shiftTimeParameter(-900)).toEqual(int16(-900));
    expect(checkMethodParameter(8, 6, shiftTimeParameter(30)).ok).toBe(true);
    expect(codeOf(() => shiftTimeParameter(901))).toBe(ErrorCode.InvalidValue);
    expect(codeOf(() => shiftTimeParameter(1.5))).toBe(ErrorCode.InvalidValue);
    expect(decodeShiftTime(int16(12))).toBe(12);
    expect(codeOf(() => decodeShiftTime(int16(1000)))).toBe(ErrorCode.InvalidValue);
    expect(codeOf(() => decodeShiftTime(int8(1)))).toBe(ErrorCode.DecodeBadValue);
  });

  it('preset_adjusting_time is a structure of three date-times', () => {
    const dt = epochToDateTime(0);
    expect(checkMethodParameter(8, 5, presetAdjustingTimeParameter(dt, dt, dt)).ok).toBe(true);
  });
});
