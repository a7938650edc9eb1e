/** Clock (8), version 0. */
import type { ClassDescriptor } from './types';
import { AttributeAccess as A, LOGICAL_NAME, ZERO_PARAM, attr, method, t } from './types';

export const CLOCK_BASE_NAMES = { 0: 'not defined', 1: 'internal crystal', 2: 'mains 50 Hz', 3: 'mains 60 Hz', 4: 'GPS', 5: 'radio controlled' };

/** clock_status bits (Blue Book): bit 0 = least significant. */
export const CLOCK_STATUS_BIT_NAMES = { 0: 'invalid value', 1: 'doubtful value', 2: 'different clock base', 3: 'invalid clock status', 7: 'daylight saving active' };

export const CLOCK: ClassDescriptor = {
  id: 8,
  name: 'Clock',
  key: 'clock',
  version: 0,
  attributes: [
    LOGICAL_NAME,
    attr(2, 'time', t.dateTime(), false, A.readWrite),
    attr(3, 'time_zone', t.int16(), true, A.readWrite),
    attr(4, 'status', t.flags('uint8', CLOCK_STATUS_BIT_NAMES), false),
    attr(5, 'daylight_savings_begin', t.dateTime(), true, A.readWrite),
    attr(6, 'daylight_savings_end', t.dateTime(), true, A.readWrite),
    attr(7, 'daylight_savings_deviation', t.int8(), true, A.readWrite),
    attr(8, 'daylight_savings_enabled', t.boolean(), true, A.readWrite),
    attr(9, 'clock_base', t.enum(CLOCK_BASE_NAMES), true),
  ],
  methods: [
    method(1, 'adjust_to_quarter', ZERO_PARAM),
    method(2, 'adjust_to_measuring_period', ZERO_PARAM),
    method(3, 'adjust_to_minute', ZERO_PARAM),
    method(4, 'adjust_to_preset_time', ZERO_PARAM),
    method(5, 'preset_adjusting_time', t.struct({ preset_time: t.dateTime(), validity_interval_start: t.dateTime(), validity_interval_end: t.dateTime() })),
    method(6, 'shift_time', t.int16()),
  ],
};
