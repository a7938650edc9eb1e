/**
 * Clock (class 8) attribute values and method parameters as typed values.
 * Attributes: 2 time, 3 time_zone, 4 status, 5/6 daylight_savings_begin/end,
 * 7 daylight_savings_deviation, 8 daylight_savings_enabled, 9 clock_base.
 */
import { DcuError, ErrorCode } from '../common/errors';
import type { CosemDateTime, Data } from '../axdr/data';
import { CLOCK_STATUS, dataAsDateTime, encodeDateTimeOctets } from '../axdr/datetime';

export interface ClockState {
  readonly time: CosemDateTime;
  /** Minutes as sent (sign convention is per meter, like the date-time deviation); null = 0x8000. */
  readonly timeZone: number | null;
  readonly status: number;
  readonly dstBegin: CosemDateTime;
  readonly dstEnd: CosemDateTime;
  /** Minutes added in summer time (int8). */
  readonly dstDeviation: number;
  readonly dstEnabled: boolean;
  /** 0 not defined, 1 internal crystal, 2 mains 50 Hz, 3 mains 60 Hz, 4 GPS, 5 radio controlled. */
  readonly clockBase: number;
}

export const ClockAttr = {
  time: 2,
  timeZone: 3,
  status: 4,
  dstBegin: 5,
  dstEnd: 6,
  dstDeviation: 7,
  dstEnabled: 8,
  clockBase: 9,
} as const;

export const ClockMethod = {
  adjustToQuarter: 1,
  adjustToMeasuringPeriod: 2,
  adjustToMinute: 3,
  adjustToPresetTime: 4,
  presetAdjustingTime: 5,
  shiftTime: 6,
} as const;

/** Largest shift_time the Blue Book allows, in seconds. */
export const MAX_SHIFT_SECONDS = 900;

function bad(attr: number, expected: string, d: Data): DcuError {
  return new DcuError(ErrorCode.DecodeBadValue, `clock attribute ${attr}: expected ${expected}, got ${d.type}`, { context: { attribute: attr } });
}

/** A date-time as clocks send it: octet-string(12). */
export function dateTimeData(dt: CosemDateTime): Data {
  return { type: 'octet-string', value: encodeDateTimeOctets(dt) };
}

export function dateTimeFromData(d: Data, attr: number = ClockAttr.time): CosemDateTime {
  const dt = dataAsDateTime(d);
  if (dt === undefined) throw bad(attr, 'date-time (octet-string(12))', d);
  return dt;
}

function num(d: Data, attr: number, types: readonly Data['type'][]): number {
  if (types.includes(d.type) && 'value' in d && typeof d.value === 'number') return d.value;
  throw bad(attr, types.join(' or '), d);
}

/** Decode the attributes present in `values` (index → Data); missing ones are absent. */
export function decodeClockAttributes(values: ReadonlyMap<number, Data>): Partial<ClockState> {
  const out: { -readonly [K in keyof ClockState]?: ClockState[K] } = {};
  for (const [index, d] of values) {
    switch (index) {
      case ClockAttr.time:
        out.time = dateTimeFromData(d, index);
        break;
      case ClockAttr.timeZone: {
        const v = num(d, index, ['int16']);
        out.timeZone = v === -0x8000 ? null : v;
        break;
      }
      case ClockAttr.status:
        out.status = num(d, index, ['uint8']);
        break;
      case ClockAttr.dstBegin:
        out.dstBegin = dateTimeFromData(d, index);
        break;
      case ClockAttr.dstEnd:
        out.dstEnd = dateTimeFromData(d, index);
        break;
      case ClockAttr.dstDeviation:
        out.dstDeviation = num(d, index, ['int8']);
        break;
      case ClockAttr.dstEnabled:
        if (d.type !== 'boolean') throw bad(index, 'boolean', d);
        out.dstEnabled = d.value;
        break;
      case ClockAttr.clockBase:
        out.clockBase = num(d, index, ['enum']);
        break;
      default:
        break;
    }
  }
  return out;
}

/** Data for one clock attribute (2..9) of a state (simulator GET). */
export function encodeClockAttribute(state: ClockState, index: number): Data {
  switch (index) {
    case ClockAttr.time:
      return dateTimeData(state.time);
    case ClockAttr.timeZone:
      return { type: 'int16', value: state.timeZone ?? -0x8000 };
    case ClockAttr.status:
      return { type: 'uint8', value: state.status };
    case ClockAttr.dstBegin:
      return dateTimeData(state.dstBegin);
    case ClockAttr.dstEnd:
      return dateTimeData(state.dstEnd);
    case ClockAttr.dstDeviation:
      return { type: 'int8', value: state.dstDeviation };
    case ClockAttr.dstEnabled:
      return { type: 'boolean', value: state.dstEnabled };
    case ClockAttr.clockBase:
      return { type: 'enum', value: state.clockBase };
    default:
      throw new DcuError(ErrorCode.Usage, `clock attribute ${index} is not a value attribute (2..9)`, { context: { attribute: index } });
  }
}

export interface ClockStatusFlags {
  readonly invalid: boolean;
  readonly doubtful: boolean;
  readonly differentBase: boolean;
  readonly invalidStatus: boolean;
  readonly dst: boolean;
}

export function clockStatusFlags(status: number): ClockStatusFlags {
  return {
    invalid: (status & CLOCK_STATUS.invalid) !== 0,
    doubtful: (status & CLOCK_STATUS.doubtful) !== 0,
    differentBase: (status & CLOCK_STATUS.differentBase) !== 0,
    invalidStatus: (status & CLOCK_STATUS.invalidStatus) !== 0,
    dst: (status & CLOCK_STATUS.dst) !== 0,
  };
}

/** Parameter of method 6 shift_time: long (int16) seconds, −900..900. */
export function shiftTimeParameter(seconds: number): Data {
  if (!Number.isInteger(seconds) || Math.abs(seconds) > MAX_SHIFT_SECONDS) {
    throw new DcuError(ErrorCode.InvalidValue, `shift_time takes whole seconds in −${MAX_SHIFT_SECONDS}..${MAX_SHIFT_SECONDS}, got ${seconds}; adjust larger offsets by writing attribute 2 (time)`, {
      context: { seconds },
    });
  }
  return { type: 'int16', value: seconds };
}

/** Server side: the seconds of a shift_time parameter, validated. */
export function decodeShiftTime(d: Data): number {
  if (d.type !== 'int16') throw new DcuError(ErrorCode.DecodeBadValue, `shift_time parameter: expected int16 (long), got ${d.type}`);
  if (Math.abs(d.value) > MAX_SHIFT_SECONDS) throw new DcuError(ErrorCode.InvalidValue, `shift_time ${d.value} s is outside −900..900`);
  return d.value;
}

/** Parameter of method 5 preset_adjusting_time. */
export function presetAdjustingTimeParameter(preset: CosemDateTime, validFrom: CosemDateTime, validTo: CosemDateTime): Data {
  return { type: 'structure', items: [dateTimeData(preset), dateTimeData(validFrom), dateTimeData(validTo)] };
}

/** Parameter of methods 1–4 (adjust_to_…): integer 0. */
export const ZERO_PARAMETER: Data = { type: 'int8', value: 0 };
