/** Data (1), Register (3), Extended register (4), Demand register (5), Register monitor (21). */
import { ACTION_ITEM, SCALER_UNIT, STATUS, VALUE_DEFINITION } from './common-types';
import type { ClassDescriptor } from './types';
import { AttributeAccess as A, LOGICAL_NAME, ZERO_PARAM, attr, method, t } from './types';

export const DATA: ClassDescriptor = {
  id: 1,
  name: 'Data',
  key: 'data',
  version: 0,
  attributes: [LOGICAL_NAME, attr(2, 'value', t.any(), false, A.readWrite)],
  methods: [],
};

export const REGISTER: ClassDescriptor = {
  id: 3,
  name: 'Register',
  key: 'register',
  version: 0,
  attributes: [LOGICAL_NAME, attr(2, 'value', t.anySimple(), false), attr(3, 'scaler_unit', SCALER_UNIT, true)],
  methods: [method(1, 'reset', ZERO_PARAM)],
};

export const EXTENDED_REGISTER: ClassDescriptor = {
  id: 4,
  name: 'Extended register',
  key: 'extended-register',
  version: 0,
  attributes: [
    LOGICAL_NAME,
    attr(2, 'value', t.anySimple(), false),
    attr(3, 'scaler_unit', SCALER_UNIT, true),
    attr(4, 'status', STATUS, false),
    attr(5, 'capture_time', t.dateTime(), false),
  ],
  methods: [method(1, 'reset', ZERO_PARAM)],
};

export const DEMAND_REGISTER: ClassDescriptor = {
  id: 5,
  name: 'Demand register',
  key: 'demand-register',
  version: 0,
  attributes: [
    LOGICAL_NAME,
    attr(2, 'current_average_value', t.anySimple(), false),
    attr(3, 'last_average_value', t.anySimple(), false),
    attr(4, 'scaler_unit', SCALER_UNIT, true),
    attr(5, 'status', STATUS, false),
    attr(6, 'capture_time', t.dateTime(), false),
    attr(7, 'start_time_current', t.dateTime(), false),
    attr(8, 'period', t.uint32(), true, A.readWrite),
    attr(9, 'number_of_periods', t.uint16(), true, A.readWrite),
  ],
  methods: [method(1, 'reset', ZERO_PARAM), method(2, 'next_period', ZERO_PARAM)],
};

export const REGISTER_MONITOR: ClassDescriptor = {
  id: 21,
  name: 'Register monitor',
  key: 'register-monitor',
  version: 0,
  attributes: [
    LOGICAL_NAME,
    attr(2, 'thresholds', t.array(t.anySimple()), true, A.readWrite),
    attr(3, 'monitored_value', VALUE_DEFINITION, true, A.readWrite),
    attr(4, 'actions', t.array(t.struct({ action_up: ACTION_ITEM, action_down: ACTION_ITEM })), true, A.readWrite),
  ],
  methods: [],
};
