/** Profile generic (7), version 1. */
import { CAPTURE_OBJECT_DEFINITION } from './common-types';
import type { ClassDescriptor } from './types';
import { AttributeAccess as A, LOGICAL_NAME, ZERO_PARAM, attr, method, restrict, t } from './types';

export const SORT_METHOD_NAMES = { 1: 'fifo', 2: 'lifo', 3: 'largest', 4: 'smallest', 5: 'nearest_to_zero', 6: 'farthest_from_zero' };

export const PROFILE_GENERIC: ClassDescriptor = {
  id: 7,
  name: 'Profile generic',
  key: 'profile-generic',
  version: 1,
  attributes: [
    LOGICAL_NAME,
    attr(2, 'buffer', t.array(t.any()), false),
    attr(3, 'capture_objects', t.array(CAPTURE_OBJECT_DEFINITION), true),
    attr(4, 'capture_period', t.uint32(), true, A.readWrite),
    attr(5, 'sort_method', t.enum(SORT_METHOD_NAMES), true),
    attr(6, 'sort_object', CAPTURE_OBJECT_DEFINITION, true),
    attr(7, 'entries_in_use', t.uint32(), false),
    attr(8, 'profile_entries', t.uint32(), true),
  ],
  methods: [method(1, 'reset', ZERO_PARAM), method(2, 'capture', ZERO_PARAM)],
};

/** Version 0 also had get_buffer_by_range / get_buffer_by_index methods (superseded by selective access). */
export const PROFILE_GENERIC_V0: ClassDescriptor = {
  ...restrict(PROFILE_GENERIC, 0, 8, 2),
  methods: [
    ...PROFILE_GENERIC.methods,
    method(3, 'get_buffer_by_range', t.struct({ restricting_object: CAPTURE_OBJECT_DEFINITION, from_value: t.any(), to_value: t.any() })),
    method(4, 'get_buffer_by_index', t.struct({ from_entry: t.uint32(), to_entry: t.uint32() })),
  ],
};
