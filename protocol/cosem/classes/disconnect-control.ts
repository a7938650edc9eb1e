/** Disconnect control (70), version 0. */
import type { ClassDescriptor } from './types';
import { AttributeAccess as A, LOGICAL_NAME, ZERO_PARAM, attr, method, t } from './types';

export const CONTROL_STATE_NAMES = { 0: 'disconnected', 1: 'connected', 2: 'ready for reconnection' };

/**
 * control_mode (Blue Book): which transitions are allowed. "Via ready" = remote_reconnect
 * moves to ready-for-reconnection and the customer reconnects by hand; "direct" = it connects.
 */
export const CONTROL_MODE_NAMES = {
  0: 'always connected',
  1: 'remote/manual/local disconnect; remote reconnect via ready, manual reconnect',
  2: 'remote/manual/local disconnect; remote reconnect direct, manual reconnect',
  3: 'remote/local disconnect (no manual); remote reconnect via ready, manual reconnect',
  4: 'remote/local disconnect (no manual); remote reconnect direct, manual reconnect',
  5: 'as mode 1, and local reconnect',
  6: 'as mode 3, and local reconnect',
};

export const DISCONNECT_CONTROL: ClassDescriptor = {
  id: 70,
  name: 'Disconnect control',
  key: 'disconnect-control',
  version: 0,
  attributes: [
    LOGICAL_NAME,
    attr(2, 'output_state', t.boolean(), false),
    attr(3, 'control_state', t.enum(CONTROL_STATE_NAMES), false),
    attr(4, 'control_mode', t.enum(CONTROL_MODE_NAMES), true, A.readWrite),
  ],
  methods: [method(1, 'remote_disconnect', ZERO_PARAM), method(2, 'remote_reconnect', ZERO_PARAM)],
};
