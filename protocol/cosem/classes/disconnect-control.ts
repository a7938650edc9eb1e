/** Disconnect control (70), version 0. */
import type { ClassDescriptor } from './types';
import { AttributeAccess as A, LOGICAL_NAME, ZERO_PARAM, attr, method, t } from './types';

export const CONTROL_STATE_NAMES = { 0: 'disconnected', 1: 'connected', 2: 'ready for reconnection' };

export const DISCONNECT_CONTROL: ClassDescriptor = {
  id: 70,
  name: 'Disconnect control',
  key: 'disconnect-control',
  version: 0,
  attributes: [
    LOGICAL_NAME,
    attr(2, 'output_state', t.boolean(), false),
    attr(3, 'control_state', t.enum(CONTROL_STATE_NAMES), false),
    attr(4, 'control_mode', t.enum(), true, A.readWrite),
  ],
  methods: [method(1, 'remote_disconnect', ZERO_PARAM), method(2, 'remote_reconnect', ZERO_PARAM)],
};
