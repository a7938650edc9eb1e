/** Image transfer (18), version 0. */
import type { ClassDescriptor } from './types';
import { AttributeAccess as A, LOGICAL_NAME, ZERO_PARAM, attr, method, t } from './types';

export const IMAGE_TRANSFER_STATUS_NAMES = {
  0: 'not initiated',
  1: 'initiated',
  2: 'verification initiated',
  3: 'verification successful',
  4: 'verification failed',
  5: 'activation initiated',
  6: 'activation successful',
  7: 'activation failed',
};

export const IMAGE_TRANSFER: ClassDescriptor = {
  id: 18,
  name: 'Image transfer',
  key: 'image-transfer',
  version: 0,
  attributes: [
    LOGICAL_NAME,
    attr(2, 'image_block_size', t.uint32(), true),
    attr(3, 'image_transferred_blocks_status', t.bitString(), false),
    attr(4, 'image_first_not_transferred_block_number', t.uint32(), false),
    attr(5, 'image_transfer_enabled', t.boolean(), true, A.readWrite),
    attr(6, 'image_transfer_status', t.enum(IMAGE_TRANSFER_STATUS_NAMES), false),
    attr(7, 'image_to_activate_info', t.array(t.struct({ size: t.uint32(), identification: t.octets(), signature: t.octets() })), false),
  ],
  methods: [
    method(1, 'image_transfer_initiate', t.struct({ image_identifier: t.octets(), image_size: t.uint32() })),
    method(2, 'image_block_transfer', t.struct({ image_block_number: t.uint32(), image_block_value: t.octets() })),
    method(3, 'image_verify', ZERO_PARAM),
    method(4, 'image_activate', ZERO_PARAM),
  ],
};
